-- Secrets at rest: the key, and sealing values with it (AES-256-GCM,
-- sis.crypto). The key is SIS_SECRET_KEY (64 hex digits, or base64 of 32
-- bytes) or, without it, DATA_DIR/secret.key, created 0600 on first start.
-- A sealed value is base64 text bound to its place (`aad`, e.g. the row
-- it belongs to): copied elsewhere it does not open.
local codec = require "sis.codec"
local crypto = require "sis.crypto"

local M = {}

-- The 32-byte key | nil, err
function M.key(data_dir)
  local env = os.getenv("SIS_SECRET_KEY")
  if env and env ~= "" then
    if #env == 64 and env:match("^%x+$") then
      return (env:gsub("%x%x", function(h) return string.char(tonumber(h, 16)) end))
    end
    local raw = codec.base64_decode(env)
    if raw and #raw == 32 then return raw end
    return nil, "SIS_SECRET_KEY must be 32 bytes: 64 hex digits or base64"
  end
  return crypto.key_file(data_dir .. "/secret.key")
end

function M.seal(key, plaintext, aad)
  return codec.base64_encode(crypto.seal(key, plaintext, aad))
end

-- → plaintext | nil, err
function M.open(key, sealed, aad)
  local raw, err = codec.base64_decode(sealed)
  if not raw then return nil, err end
  return crypto.open(key, raw, aad)
end

-- A random token of n bytes as hex (ids, secrets, feed tokens).
function M.token(n) return codec.random_hex(n or 16) end

return M
