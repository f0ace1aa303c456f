-- Dovecot lua passdb standing in for Exchange Online's RBAC for Applications on SMTP AUTH (issue 24): an app whose
-- Exchange service principal holds "Application SMTP.SendAsApp" with the mailbox in its scope may send as that mailbox
-- without FullAccess and without Entra's SMTP.SendAsApp permission. Microsoft: RBAC covers SMTP only (IMAP/POP still
-- need FullAccess), and an app that ALSO holds SMTP.SendAsApp in Entra ID goes through the mailbox permission check
-- again (tests/sandbox/README.md, "SMTP login decision").
--
-- Success here ends the chain (return-ok); any other answer lets the next passdbs decide as before (result_failure =
-- continue): the role check (exchange_roles.lua) and the FullAccess stand-in. The scope is the file rbac_smtp.list
-- beside this script, one "<app id> <mailbox>" per line (lower case), written by the harness from the sandbox's
-- Exchange state; it is read at every login, so a change applies at once (Exchange Online: 30 min to 2 h).

local HERE = debug.getinfo(1, "S").source:match("^@(.*/)")
local token = dofile(HERE .. "exchange_token.lua")

local function in_scope(app, mailbox)
  local list = io.open(HERE .. "rbac_smtp.list", "r")
  if list == nil then return false end
  local wanted = app:lower() .. " " .. mailbox:lower()
  for line in list:lines() do
    if line == wanted then
      list:close()
      return true
    end
  end
  list:close()
  return false
end

function auth_password_verify(req, jwt)
  if req.service ~= "smtp" then
    return dovecot.auth.PASSDB_RESULT_PASSWORD_MISMATCH, "RBAC for Applications covers SMTP only"
  end
  local payload = token.payload(jwt)
  if payload == nil then
    return dovecot.auth.PASSDB_RESULT_PASSWORD_MISMATCH, "not a JWT"
  end
  if token.has_role(payload, "SMTP.SendAsApp") then
    return dovecot.auth.PASSDB_RESULT_PASSWORD_MISMATCH, "Entra SMTP.SendAsApp: the mailbox permission check applies"
  end
  local app = token.claim(payload, "azp") or token.claim(payload, "appid")
  if app == nil or not in_scope(app, req.user) then
    return dovecot.auth.PASSDB_RESULT_PASSWORD_MISMATCH, "no Application SMTP.SendAsApp assignment covers " .. req.user
  end
  return dovecot.auth.PASSDB_RESULT_OK, ""
end

function auth_passdb_lookup(req)
  return dovecot.auth.PASSDB_RESULT_USER_UNKNOWN, "only password verification is supported"
end
