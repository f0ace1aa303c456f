-- Dovecot lua passdb standing in for Exchange Online's authorization of app-only tokens: IMAP needs the role
-- IMAP.AccessAsApp, POP POP.AccessAsApp and SMTP (Postfix asks Dovecot's auth listener with service "smtp")
-- SMTP.SendAsApp. The claims are read by exchange_token.lua, beside this file.

local token = dofile(debug.getinfo(1, "S").source:match("^@(.*/)") .. "exchange_token.lua")
local ROLE_BY_SERVICE = { imap = "IMAP.AccessAsApp", pop3 = "POP.AccessAsApp", smtp = "SMTP.SendAsApp" }

function auth_password_verify(req, jwt)
  local needed = ROLE_BY_SERVICE[req.service]
  local payload = token.payload(jwt)
  if needed == nil or payload == nil then
    return dovecot.auth.PASSDB_RESULT_PASSWORD_MISMATCH, "no app role known for service " .. tostring(req.service)
  end
  if not token.has_role(payload, needed) then
    return dovecot.auth.PASSDB_RESULT_PASSWORD_MISMATCH, "token has no role " .. needed
  end
  return dovecot.auth.PASSDB_RESULT_OK, ""
end

function auth_passdb_lookup(req)
  return dovecot.auth.PASSDB_RESULT_USER_UNKNOWN, "only password verification is supported"
end
