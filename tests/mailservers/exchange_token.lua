-- Reading an app-only token's claims, shared by the lua passdbs (exchange_roles.lua, exchange_rbac.lua), which load it
-- with dofile from their own folder. The oauth2 passdb before them has checked the token's signature, expiry and
-- audience, so reading the claims without a signature check is safe. Dovecot's oauth2 passdb drops JSON arrays, so the
-- roles claim can only be read here.

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

local token = {}

-- The JSON payload of a JWT, or nil.
function token.payload(jwt)
  local part = jwt:match("^[^.]+%.([^.]+)%.")
  if part == nil then return nil end
  return b64url_decode(part)
end

-- Whether the payload's roles claim holds role.
function token.has_role(payload, role)
  local roles = payload:match('"roles"%s*:%s*%[(.-)%]')
  return roles ~= nil and roles:find('"' .. role .. '"', 1, true) ~= nil
end

-- A string claim (azp, appid, ...), or nil.
function token.claim(payload, name)
  return payload:match('"' .. name .. '"%s*:%s*"([^"]*)"')
end

return token
