-- REST routes of the ScoDoc API (/api/scodoc/*), see docs/scodoc.md and
-- docs/architecture.md "REST routes". The session namespace "scodoc" holds
-- the scodoc.service state. Every GET takes ?via=xml to have sis fetch the
-- data from ScoDoc in XML instead of JSON (the answer is the same).
local scodoc = require "scodoc.service"
local client = require "scodoc.client"

local NS = "scodoc"
local NOT_LOGGED_IN = { error = "not logged in to ScoDoc (POST /api/scodoc/session)" }

local function bad(msg) return nil, 400, { error = msg } end

local function is_iso_date(s) return type(s) == "string" and s:match("^%d%d%d%d%-%d%d%-%d%d$") ~= nil end

-- from/to (yyyy-mm-dd) and half_day (day|morning|afternoon) as the scodoc.api
-- write functions take them; `to` defaults to `from`.
local HALF_DAYS = { day = true, morning = true, afternoon = true }
local function period(src)
  if not is_iso_date(src.from) then return bad("from must be a date yyyy-mm-dd") end
  if src.to ~= nil and not is_iso_date(src.to) then return bad("to must be a date yyyy-mm-dd") end
  local half = src.half_day or "day"
  if not HALF_DAYS[half] then return bad("half_day must be day, morning or afternoon") end
  return { datedebut = src.from, datefin = src.to or src.from, demijournee = half }
end

-- Path arguments go into ScoDoc's URLs: a department is an acronym, an id
-- ScoDoc's (EID3101, SEM3190; 9.x: digits). So "..", "." and encoded
-- slashes never reach ScoDoc.
local function valid_id(v) return #v <= 64 and v:match("^[A-Za-z0-9_-]+$") ~= nil end
local function check_path(params)
  for name, v in pairs(params or {}) do
    if name == "dept" then
      if not client.valid_dept(v) then
        return "the department must be an acronym (letters, digits, _ and -)"
      end
    elseif not valid_id(v) then
      return name .. " must be a ScoDoc id (letters, digits, _ and -)"
    end
  end
end

local JUSTIFIED = { ["0"] = false, ["1"] = true, ["false"] = false, ["true"] = true }

-- A route calling `endpoint` on the caller's session; args_of(req) -> args
-- | nil, status, body. `created` is the status of a success (201 for POST).
local function call(endpoint, args_of, created)
  return function(req)
    local state = req.session(NS)
    if not state then return 401, NOT_LOGGED_IN end
    local wrong = check_path(req.params)
    if wrong then return 400, { error = wrong } end
    local args, status, body = {}, nil, nil
    if args_of then args, status, body = args_of(req) end
    if not args then return status, body end
    args.dept = req.params.dept
    if req.method == "GET" then
      local via = req.query.via or "json"
      if via ~= "json" and via ~= "xml" then return 400, { error = "via must be json or xml" } end
      args.format = via
    end
    local code, answer = scodoc.call(state, endpoint, args)
    -- the credentials no longer work: the session is useless
    if code == 401 then req.end_session(NS) end
    if code == 200 and created then code = created end
    return code, answer
  end
end

local function param(name, as)
  return function(req) return { [as or name] = req.params[name] } end
end

local AUTH_MODES = { cookie = true, params = true, basic = true }

-- POST {"username", "password" [, "auth": "cookie"|"params"|"basic"]}
local function session_post(req)
  local j = req.json
  if type(j) ~= "table" or type(j.username) ~= "string" or type(j.password) ~= "string" then
    return 400, { error = 'expected {"username": "...", "password": "..."}' }
  end
  if j.auth ~= nil and not AUTH_MODES[j.auth] then
    return 400, { error = "auth must be cookie, params or basic" }
  end
  local url = req.config and req.config.scodoc_url
  if not url then return 503, { error = "no ScoDoc URL configured (sis serve --scodoc-url)" } end
  local state, status, msg = scodoc.login {
    base_url = url, username = j.username, password = j.password, auth = j.auth,
    timeout = req.config.timeout,
  }
  if not state then return status, { error = msg } end
  if req.session(NS) then req.end_session(NS) end
  req.start_session(NS, state)
  return scodoc.call(state, "session")
end

local function session_get(req)
  local state = req.session(NS)
  if not state then return 401, NOT_LOGGED_IN end
  return scodoc.call(state, "session")
end

local function session_delete(req)
  local state = req.session(NS)
  if not state then return 401, NOT_LOGGED_IN end
  scodoc.logout(state)
  req.end_session(NS)
  return 200, {}
end

local function formsemestres(req)
  return { formation_id = req.query.formation_id, etape_apo = req.query.etape_apo }
end

-- One semestre: formsemestre_list filtered on its id, unwrapped.
local list_one = call("formsemestre_list", function(req) return { formsemestre_id = req.params.id } end)
local function formsemestre(req)
  local code, list = list_one(req)
  if code ~= 200 then return code, list end
  if #list == 0 then return 404, { error = "scodoc: unknown formsemestre " .. req.params.id } end
  return 200, list[1]
end

-- ?etudid= | ?code_nip= | ?code_ine=
local function student_lookup(req)
  local q, args, n = req.query, {}, 0
  for _, k in ipairs { "etudid", "code_nip", "code_ine" } do
    if q[k] then args[k], n = q[k], n + 1 end
  end
  if n ~= 1 then return bad("give exactly one of etudid, code_nip, code_ine") end
  return args
end

local function bulletin(req)
  return { etudid = req.params.etudid, formsemestre_id = req.params.formsemestre_id,
           version = req.query.version }
end

local function description(req)
  local evals = JUSTIFIED[req.query.with_evals or "0"]
  if evals == nil then return bad("with_evals must be 0 or 1") end
  return { formsemestre_id = req.params.id, with_evals = evals }
end

-- The department holding a student: {etudid, dept}.
local dept_call = call("get_etud_dept", param("etudid"))
local function student_dept(req)
  local code, value = dept_call(req)
  if code ~= 200 then return code, value end
  return 200, { etudid = req.params.etudid, dept = value }
end

local function absences_get(req)
  local just = JUSTIFIED[req.query.justified or "0"]
  if just == nil then return bad("justified must be 0 or 1") end
  return { etudid = req.params.etudid, absjust_only = just }
end

-- POST {"from", "to", "half_day", "justified", "description", "moduleimpl_id"}
local function absences_post(req)
  local j = req.json
  if type(j) ~= "table" then return bad("expected a JSON object") end
  local args, status, body = period(j)
  if not args then return nil, status, body end
  if j.justified ~= nil and type(j.justified) ~= "boolean" then return bad("justified must be a boolean") end
  for _, k in ipairs { "description", "moduleimpl_id" } do
    if j[k] ~= nil and type(j[k]) ~= "string" then return bad(k .. " must be a string") end
  end
  args.etudid, args.estjust = req.params.etudid, j.justified or false
  args.description, args.moduleimpl_id = j.description, j.moduleimpl_id
  return args
end

local function period_query(req)
  local args, status, body = period(req.query)
  if not args then return nil, status, body end
  args.etudid = req.params.etudid
  return args
end

local function group_absences(req)
  local q = req.query
  -- group_ids=a,b or group_ids=a&group_ids=b
  local groups = req.query_all and req.query_all.group_ids
  groups = groups and table.concat(groups, ",") or q.group_ids
  if not groups or not groups:find("[^,%s]") then return bad("group_ids is required (a,b,...)") end
  if not is_iso_date(q.from) or not is_iso_date(q.to) then return bad("from and to must be dates yyyy-mm-dd") end
  local boursier
  if q.with_boursier then
    boursier = JUSTIFIED[q.with_boursier]
    if boursier == nil then return bad("with_boursier must be 0 or 1") end
  end
  return { group_ids = groups, debut = q.from, fin = q.to, with_boursier = boursier }
end

local P = "/api/scodoc/:dept"
return {
  { method = "POST", path = "/api/scodoc/session", handler = session_post },
  { method = "GET", path = "/api/scodoc/session", handler = session_get },
  { method = "DELETE", path = "/api/scodoc/session", handler = session_delete },
  { method = "GET", path = "/api/scodoc/depts", handler = call("list_depts") },
  { method = "GET", path = "/api/scodoc/students/:etudid/dept", handler = student_dept },
  { method = "GET", path = P .. "/formations", handler = call("formation_list") },
  { method = "GET", path = P .. "/formations/:formation_id", handler = call("formation_export",
    function(req) return { formation_id = req.params.formation_id, export_ids = true } end) },
  { method = "GET", path = P .. "/formsemestres", handler = call("formsemestre_list", formsemestres) },
  { method = "GET", path = P .. "/formsemestres/:id", handler = formsemestre },
  { method = "GET", path = P .. "/formsemestres/:id/partitions",
    handler = call("formsemestre_partition_list", param("id", "formsemestre_id")) },
  { method = "GET", path = P .. "/formsemestres/:id/students",
    handler = call("groups_view", param("id", "formsemestre_id")) },
  { method = "GET", path = P .. "/formsemestres/:id/description",
    handler = call("formsemestre_description", description) },
  { method = "GET", path = P .. "/formsemestres/:id/moduleimpls",
    handler = call("do_moduleimpl_withmodule_list", param("id", "formsemestre_id")) },
  { method = "GET", path = P .. "/groups/absences", handler = call("EtatAbsencesGr", group_absences) },
  { method = "GET", path = P .. "/groups/:group_id/students",
    handler = call("groups_view", param("group_id", "group_ids")) },
  { method = "GET", path = P .. "/students", handler = call("etud_info", student_lookup) },
  { method = "GET", path = P .. "/students/:etudid", handler = call("etud_info", param("etudid")) },
  { method = "GET", path = P .. "/students/:etudid/bulletins/:formsemestre_id",
    handler = call("formsemestre_bulletinetud", bulletin) },
  { method = "GET", path = P .. "/students/:etudid/absences", handler = call("ListeAbsEtud", absences_get) },
  { method = "POST", path = P .. "/students/:etudid/absences",
    handler = call("doSignaleAbsence", absences_post, 201) },
  { method = "DELETE", path = P .. "/students/:etudid/absences",
    handler = call("doAnnuleAbsence", period_query) },
  { method = "DELETE", path = P .. "/students/:etudid/justifications",
    handler = call("doAnnuleJustif", period_query) },
}
