-- Dovecot lua passdb standing in for Exchange Online's authorization of app-only tokens.
-- The oauth2 passdb before it has checked the token's signature, expiry and audience, so reading the
-- claims here without a signature check is safe. Dovecot's oauth2 passdb drops JSON arrays, so the
-- roles claim can only be checked here: IMAP needs IMAP.AccessAsApp, POP POP.AccessAsApp and SMTP
-- (Postfix asks Dovecot's auth listener with service "smtp") SMTP.SendAsApp.

local ROLE_BY_SERVICE = { imap = "IMAP.AccessAsApp", pop3 = "POP.AccessAsApp", smtp = "SMTP.SendAsApp" }
local ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

local function b64url_decode(data)
  local bits, nbits, out = 0, 0, {}
  for i = 1, #data do
    local value = ALPHABET:find(data:sub(i, i), 1, true)
    if value == nil then break end
    bits = ((bits << 6) | (value - 1)) & 0xFFFFFF
    nbits = nbits + 6
    if nbits >= 8 then
      nbits = nbits - 8
      out[#out + 1] = string.char((bits >> nbits) & 0xFF)
    end
  end
  return table.concat(out)
end

function auth_password_verify(req, token)
  local needed = ROLE_BY_SERVICE[req.service]
  local payload = token:match("^[^.]+%.([^.]+)%.")
  if needed == nil or payload == nil then
    return dovecot.auth.PASSDB_RESULT_PASSWORD_MISMATCH, "no app role known for service " .. tostring(req.service)
  end
  local roles = b64url_decode(payload):match('"roles"%s*:%s*%[(.-)%]')
  if roles == nil or not roles:find('"' .. needed .. '"', 1, true) then
    return dovecot.auth.PASSDB_RESULT_PASSWORD_MISMATCH, "token has no role " .. needed
  end
  return dovecot.auth.PASSDB_RESULT_OK, ""
end

function auth_passdb_lookup(req)
  return dovecot.auth.PASSDB_RESULT_USER_UNKNOWN, "only password verification is supported"
end
