-- A throwaway certificate authority for the HTTPS tests and benchmarks, made
-- at run time with the openssl command (no key is committed):
--   local ca = require("test_ca").make()
--   ca.ca      the CA's certificate (PEM)
--   ca.server  key + certificate for 127.0.0.1 and localhost signed by the CA:
--              the fake servers' --tls
--   ca.bundle  a copy of the system CA bundle with the CA appended: what
--              SIS_CA_FILE / cafile would name for a school with its own CA,
--              and as large as the real bundle (it is parsed when loaded)
--   ca.remove()
-- RSA 2048 keys, like most school servers.
local t = require "testlib"

local M = {}

M.SYSTEM_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"

local function sh(cmd)
  local code, out, err = t.exec(cmd)
  if code ~= 0 then error("test_ca: " .. cmd .. " failed:\n" .. out .. err, 3) end
end

function M.make()
  local dir = t.tmpdir()
  local ca = { dir = dir, ca = dir .. "/ca.pem", server = dir .. "/server.pem", bundle = dir .. "/bundle.pem" }
  sh(string.format("cd %s && openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem"
    .. " -days 7 -subj '/CN=sis test CA'", dir))
  sh(string.format("cd %s && openssl req -x509 -newkey rsa:2048 -nodes -keyout server.key -out server.crt"
    .. " -CA ca.pem -CAkey ca.key -days 7 -subj /CN=127.0.0.1"
    .. " -addext subjectAltName=IP:127.0.0.1,DNS:localhost -addext basicConstraints=critical,CA:FALSE"
    .. " -addext extendedKeyUsage=serverAuth && cat server.key server.crt >server.pem", dir))
  local f = io.open(M.SYSTEM_BUNDLE)
  local system = f and M.SYSTEM_BUNDLE or "/dev/null"
  if f then f:close() end
  sh(string.format("cat %s %s/ca.pem >%s/bundle.pem", system, dir, dir))
  function ca.remove() os.execute("rm -rf " .. dir) end
  return ca
end

return M
