-- Fetch + normalise time of the largest recorded long bulletin, via ScoDoc's
-- JSON and via its XML (fake ScoDoc on loopback, cookie auth), and the
-- decode + normalise part alone on the recorded bodies. Medians; prints
-- figures, asserts nothing.
package.path = (os.getenv("SIS_TEST_ROOT") or ".") .. "/bench/?.lua;" .. package.path
local B = require "benchlib"
local t = require "testlib"
local json = require "sis.json"
local client = require "scodoc.client"
local api = require "scodoc.api"
local functions = require "scodoc.functions"
local normalise = require "scodoc.normalise"
local xml_map = require "scodoc.xml_map"

local ROUNDS = 100
local DECODE_ROUNDS = 500
local DEPT, SEM, ETUD = "INFO", "SEM3160", "EID3106"
local FILE = "scodoc/responses/INFO__Notes__formsemestre_bulletinetud__etudid=" .. ETUD
  .. "__formsemestre_id=" .. SEM .. "__version=long"

local fake = t.server("python3 " .. B.root .. "/tests/servers/fake_scodoc.py")
local c = client.new { base_url = fake.url, username = "lecteur_api", password = "Lecture-Info-2021" }
local args = { formsemestre_id = SEM, etudid = ETUD, version = "long" }
assert(api.list_depts(c)) -- log in once: the rounds use the cookie

local function fetch(format)
  args.format = format
  return B.wall_median_ms(ROUNDS, function() assert(api.formsemestre_bulletinetud(c, DEPT, args)) end)
end
local via_json, via_xml = fetch("json"), fetch("xml")
c:close()
fake.stop()

local f = functions.formsemestre_bulletinetud
local jbody, xbody = t.fixture(FILE .. ".json"), t.fixture(FILE .. ".xml")
local decode_json = B.wall_median_ms(DECODE_ROUNDS, function()
  assert(normalise.apply(f.schema, json.decode(jbody), { unescape = true }))
end)
local decode_xml = B.wall_median_ms(DECODE_ROUNDS, function()
  assert(normalise.apply(f.schema, xml_map.tree(f.schema, client.parse_xml(xbody))))
end)

print(string.format("scodoc: long bulletin %s/%s (JSON %d bytes, XML %d bytes)", ETUD, SEM, #jbody, #xbody))
print(string.format("  fetch + normalise via JSON  %7.2f ms  (median of %d, fake ScoDoc on loopback)",
                    via_json, ROUNDS))
print(string.format("  fetch + normalise via XML   %7.2f ms", via_xml))
print(string.format("  decode + normalise JSON     %7.3f ms  (median of %d, no HTTP)", decode_json, DECODE_ROUNDS))
print(string.format("  parse + map + normalise XML %7.3f ms", decode_xml))
