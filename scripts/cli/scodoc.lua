-- sis scodoc: call one ScoDoc 7 function, print its normalised answer as JSON.
local cli = require "lib.cli"
local api = require "scodoc.api"
local client = require "scodoc.client"
local functions = require "scodoc.functions"

local USAGE = [==[
usage: sis scodoc [options] FUNCTION [name=value ...]

Calls one ScoDoc 7 API function and prints its normalised answer as JSON
(docs/scodoc.md). Parameters use ScoDoc's names; dept=DEPT gives the
department (all functions but list_depts); a name given twice makes a list
(group_ids=G1 group_ids=G2, or group_ids=G1,G2). Dates as yyyy-mm-dd.
The password comes from the environment variable SIS_SCODOC_PASSWORD or is
asked for (never on the command line).

options:
  --url URL      ScoDoc base URL, e.g. https://scodoc.example.org/ (env SIS_SCODOC_URL)
  --user NAME    ScoDoc user name (env SIS_SCODOC_USER)
  --via FORMAT   fetch ScoDoc's json (default) or xml answer; same output
  --auth MODE    cookie (default), params or basic
  --timeout SEC  timeout of each request (default 30)
  -h, --help     this help

functions:
  list_depts [viewable=0]                  get_etud_dept etudid= | code_nip= | code_ine=
  formation_list [formation_id=]           formation_export formation_id= [export_ids=1]
  formsemestre_list [formsemestre_id= | formation_id= | etape_apo=]
  XMLgetFormsemestres [formsemestre_id= | etape_apo=]
  formsemestre_description formsemestre_id= [with_evals=1]
  formsemestre_partition_list formsemestre_id=
  groups_view formsemestre_id= | group_ids= [with_codes=0] [etat=I]
  etud_info, XMLgetEtudInfos etudid= | code_nip= | code_ine=
  formsemestre_bulletinetud formsemestre_id= etudid=|code_nip= [version=short|selectedevals|long]
  ListeAbsEtud etudid= [absjust_only=1]
  XMLgetAbsEtud etudid= | code_nip= | code_ine= beg_date= end_date=
  EtatAbsencesGr group_ids= debut= fin= [with_boursier=0]
  do_moduleimpl_list, do_moduleimpl_withmodule_list [formsemestre_id= | moduleimpl_id= | module_id=]
  doSignaleAbsence etudid= datedebut= [datefin=] [demijournee=day|morning|afternoon]
                   [estjust=1] [description=] [moduleimpl_id=]
  doAnnuleAbsence, doAnnuleJustif etudid= datedebut= [datefin=] [demijournee=]

example:
  SIS_SCODOC_PASSWORD=... sis scodoc --url https://scodoc.example.org/ --user jdoe \
    formsemestre_bulletinetud dept=INFO formsemestre_id=SEM3190 etudid=EID3101
]==]

local cmd = cli.new("scodoc", USAGE)
local die = cmd.die

local opts, words = cmd.options({ ... }, { url = true, user = true, via = true, auth = true, timeout = cli.seconds },
  { url = os.getenv("SIS_SCODOC_URL"), user = os.getenv("SIS_SCODOC_USER"),
    via = "json", auth = "cookie", timeout = 30 },
  { password = "the password comes from SIS_SCODOC_PASSWORD, never the command line" })

local name = words[1] or die("no function given (sis scodoc --help)")
local fn = api[name]
local takes = fn and api.arguments(name) or die("unknown function " .. name .. " (sis scodoc --help)")
local known = { dept = functions[name].container ~= "root" }
for _, k in ipairs(takes) do known[k] = k ~= "format" end -- the format is --via
local fargs = { format = opts.via }
for k = 2, #words do
  local key, value = words[k]:match("^([%w_]+)=(.*)$")
  if not key then die("expected name=value, got '" .. words[k] .. "'") end
  if not known[key] then
    local names = {}
    for n, ok in pairs(known) do if ok then names[#names + 1] = n end end
    table.sort(names)
    cmd.usage_error(string.format("%s takes no argument '%s' (it takes %s)", name, key, table.concat(names, ", ")))
  end
  local old = fargs[key]
  if old == nil then fargs[key] = value
  elseif type(old) == "table" then old[#old + 1] = value
  else fargs[key] = { old, value } end
end
local timeout = tonumber(opts.timeout) or die("--timeout must be a number")
if not opts.url then die("no ScoDoc URL (--url or SIS_SCODOC_URL)") end
if opts.via ~= "json" and opts.via ~= "xml" then die("--via must be json or xml") end
local dept = fargs.dept
fargs.dept = nil
if known.dept and not dept then die(name .. " needs dept=DEPT") end
if dept and not client.valid_dept(dept) then die("dept must be a department acronym (letters, digits, _ and -)") end

-- ScoDoc's errors, once, without the module prefix; the evidence (URL,
-- curl's text, page title) after it
local function fail(err, detail)
  die(tostring(err):gsub("^scodoc: ", "") .. (detail and " (" .. detail .. ")" or ""), 1)
end

-- anonymous, ScoDoc lists nothing and refuses the rest: a user is needed
if not opts.user then fail("no user name: give --user or SIS_SCODOC_USER") end
local password = cmd.password("SIS_SCODOC_PASSWORD", "ScoDoc password")
local ok, c = pcall(client.new, { base_url = opts.url, username = opts.user,
  password = password, auth = opts.auth, timeout = timeout })
if not ok then die((tostring(c):gsub("^.-client%.new: ", ""))) end
local value, err, _, detail
do
  local session <close> = c
  -- a refused login is an error, not an empty answer (an unknown user is anonymous to ScoDoc)
  value, err, _, detail = session:login()
  if value ~= nil then
    if known.dept then
      value, err, _, detail = fn(session, dept, fargs)
    else
      value, err, _, detail = fn(session, fargs)
    end
  end
end
if value == nil then fail(err, detail) end
cmd.print_json(value)
