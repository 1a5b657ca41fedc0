-- A throwaway certificate authority for the HTTPS tests, made at run time by
-- tests/servers/make_test_ca.sh (no key is committed):
--   local ca = require("test_ca").make()
--   ca.ca      the CA's certificate (PEM)
--   ca.server  key + certificate for 127.0.0.1 and localhost signed by the
--              CA: the fake servers' --tls
--   ca.bundle  the system CA bundle with the CA appended (SIS_CA_FILE, cafile)
--   ca.remove()
local t = require "testlib"

local M = {}

M.SYSTEM_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"

function M.make()
  local dir = t.tmpdir()
  local code, out, err = t.exec("sh " .. t.root .. "/tests/servers/make_test_ca.sh " .. dir)
  if code ~= 0 then error("test_ca: make_test_ca.sh failed:\n" .. out .. err, 2) end
  local ca = { dir = dir, ca = dir .. "/ca.pem", server = dir .. "/server.pem", bundle = dir .. "/bundle.pem" }
  function ca.remove() os.execute("rm -rf " .. dir) end
  return ca
end

return M
