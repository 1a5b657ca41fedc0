-- docs/rest.md from the OpenAPI document (scripts/openapi/build.lua):
-- `sis openapi --markdown > docs/rest.md`; a test checks the committed file.
local M = {}

local TAGS = { "Server", "Focus", "Focus watch", "Focus calendar", "ScoDoc", "ScoDoc watch", "ScoDoc calendar",
               "Calendar feeds" }

local function schema_name(s)
  if type(s) ~= "table" then return "" end
  local ref = s["$ref"] or (s.items and s.items["$ref"] and s.items["$ref"])
  if ref then
    local name = ref:match("([^/]+)$")
    return s.items and "[" .. name .. "]" or name
  end
  if s.type == "string" then return "text" end
  if s.type == "object" and s.properties then
    local names = {}
    for k in pairs(s.properties) do names[#names + 1] = k end
    table.sort(names)
    if #names == 0 then return "{}" end
    return "{" .. table.concat(names, ", ") .. "}"
  end
  return "JSON"
end

local function cell(s) return (tostring(s):gsub("|", "\\|"):gsub("\n", " ")) end

function M.render(doc)
  local rows = {}
  for path, ops in pairs(doc.paths) do
    for method, op in pairs(ops) do
      rows[#rows + 1] = { path = path, method = method:upper(), op = op }
    end
  end
  table.sort(rows, function(a, b)
    if a.path ~= b.path then return a.path < b.path end
    return a.method < b.method
  end)
  local out = {
    "# REST reference",
    "",
    "Generated from the route tables and the reference next to them (`scripts/openapi/schemas/`) by",
    "`sis openapi --markdown > docs/rest.md`; a test fails when this file is out of date. The same source",
    "serves the OpenAPI 3.1 document at `GET /api/openapi.json` (`sis openapi` prints it), with the",
    "schemas of every answer. Errors are `{\"error\": \"...\"}`; every route may also answer 500.",
    "Sessions are cookies: `sis_focus` (POST /api/v3/session), `sis_scodoc` (POST /api/scodoc/session).",
  }
  for _, tag in ipairs(TAGS) do
    local any = false
    for _, r in ipairs(rows) do
      if r.op.tags[1] == tag then
        if not any then
          out[#out + 1] = ""
          out[#out + 1] = "## " .. tag
          out[#out + 1] = ""
          out[#out + 1] = "| route | what | parameters | body | answers |"
          out[#out + 1] = "|---|---|---|---|---|"
          any = true
        end
        local params = {}
        for _, p in ipairs(r.op.parameters or {}) do
          if p["in"] == "query" then params[#params + 1] = p.name .. (p.required and "" or "?") end
        end
        local codes = {}
        for code in pairs(r.op.responses) do
          if code ~= "500" then codes[#codes + 1] = code end
        end
        table.sort(codes)
        local answers = {}
        for _, code in ipairs(codes) do
          local res = r.op.responses[code]
          local content = res.content and (res.content["application/json"] or res.content["text/calendar"])
          local what = ""
          if content and code:sub(1, 1) == "2" then
            what = " " .. (res.content["text/calendar"] and "text/calendar" or schema_name(content.schema))
          end
          answers[#answers + 1] = code .. what
        end
        local body = r.op.requestBody and schema_name(r.op.requestBody.content["application/json"].schema) or ""
        out[#out + 1] = string.format("| `%s %s` | %s | %s | %s | %s |", r.method, r.path, cell(r.op.summary or ""),
          cell(table.concat(params, ", ")), cell(body), cell(table.concat(answers, ", ")))
      end
    end
  end
  local names = {}
  for name in pairs(doc.components.schemas) do names[#names + 1] = name end
  table.sort(names)
  out[#out + 1] = ""
  out[#out + 1] = "## Schemas"
  out[#out + 1] = ""
  out[#out + 1] = "The answers' shapes (full JSON Schemas in `GET /api/openapi.json`):"
  out[#out + 1] = ""
  for _, name in ipairs(names) do
    local s = doc.components.schemas[name]
    out[#out + 1] = string.format("- **%s**: %s", name, cell(schema_name(s.items or s)))
  end
  return table.concat(out, "\n") .. "\n"
end

return M
