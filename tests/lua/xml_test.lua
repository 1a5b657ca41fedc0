-- sis.xml: element trees from the ScoDoc XML answers, entities, CDATA,
-- malformed input with line/column, refused DOCTYPE, limits.
local t = require "testlib"
local xml = require "sis.xml"
local json = require "sis.json"

local R = "scodoc/responses/"

-- Element children with the given tag, in order.
local function children(el, tag)
  local out = {}
  for _, c in ipairs(el) do
    if type(c) == "table" and c.tag == tag then out[#out + 1] = c end
  end
  return out
end
local function child(el, tag) return children(el, tag)[1] end

t.test("a ScoDoc bulletin: attributes, nesting, entities and text", function()
  local root = assert(xml.parse(t.fixture(R ..
    "INFO__Notes__formsemestre_bulletinetud__etudid=EID3106__formsemestre_id=SEM3160__version=long.xml")))
  t.eq(root.tag, "bulletinetud")
  t.eq(root.attrs, { formsemestre_id = "SEM3160", etape_apo2 = "V1INF2", etape_apo = "V1INF",
    etudid = "EID3106", date = "2021-03-15T10:42:17.503212", publie = "1" })
  local etudiant = child(root, "etudiant")
  t.eq(etudiant.attrs.nom, "KERBRAT")
  t.eq(etudiant.attrs.code_nip, "21900285")
  t.eq(#etudiant, 0) -- <etudiant ... /> has no children
  t.eq(child(root, "note").attrs, { max = "16.55", moy = "12.40", value = "14.43", min = "06.28" })
  local ues = children(root, "ue")
  t.eq(#ues, 3)
  t.eq(ues[1].attrs.titre, "Bases de l'informatique") -- &apos;
  local modules = children(ues[1], "module")
  t.eq(modules[1].attrs.abbrev, "Systèmes")
  t.eq(modules[1].attrs.code, "M1101")
  local ev = child(modules[1], "evaluation")
  t.eq(ev.attrs.jour, "2020-10-05")
  t.eq(child(ev, "note").attrs.value, "09.50")
  t.eq(children(ues[3], "module")[1].attrs.titre, "Sport & bonus") -- &amp;
  t.eq(child(root, "situation")[1],
    "Inscrit le 01/09/2020. Décision jury: Validé. UE acquises: UE11, UE12. Autorisé à s'inscrire en S2.")
  t.eq(#child(root, "situation"), 1)
  t.eq(child(root, "decision").attrs, { etat = "I", code = "ADM" })
  -- whitespace between elements is dropped: every child is an element
  for _, c in ipairs(root) do t.eq(type(c), "table") end
  local n = 0
  for _, ue in ipairs(ues) do
    for _, m in ipairs(children(ue, "module")) do n = n + #children(m, "evaluation") end
  end
  local _, want = t.fixture(R ..
    "INFO__Notes__formsemestre_bulletinetud__etudid=EID3106__formsemestre_id=SEM3160__version=long.xml")
    :gsub("<evaluation ", "")
  t.eq(n, want)
end)

t.test("etud_info: accented attributes and repeated elements", function()
  local root = assert(xml.parse(t.fixture(R .. "INFO__Scolarite__etud_info__etudid=EID3101.xml")))
  t.eq(root.tag, "etudiant")
  t.eq(root.attrs.nomprenom, "Mme Élodie MARCHAL-VÉRIN")
  t.eq(root.attrs.domicile, "40 rue des Prés")
  t.eq(root.attrs.telephone, "")
  local ins = children(root, "insemestre")
  t.eq(#ins, 2)
  t.eq(ins[1].attrs, { etat = "I", formsemestre_id = "SEM3190", groupes = "A Web", current = "1",
    date_fin = "2021-06-30", date_debut = "2021-02-01" })
  t.eq(ins[2].attrs.formsemestre_id, "SEM3160")
end)

t.test("formsemestre_list: one semester, and the empty answer for an unknown one", function()
  local root = assert(xml.parse(t.fixture(R .. "INFO__Notes__formsemestre_list__formsemestre_id=SEM3160.xml")))
  t.eq(root.tag, "formsemestre_list")
  t.eq(#root, 1)
  local sem = root[1]
  t.eq(sem.attrs.titremois, "DUT Informatique semestre 1 FI  (sept. 2020 - janv. 2021)")
  t.eq(sem.attrs.date_debut, "01/09/2020")
  t.eq(sem.attrs.mois_fin, "janv. 2021")
  t.eq(#children(sem, "etapes"), 2)
  t.eq(children(sem, "etapes")[2].attrs.code, "V1INF2")
  t.eq(child(sem, "responsables").attrs.code, "rgarnier")
  local empty = assert(xml.parse(t.fixture(R ..
    "err-unknown-formsemestre__INFO__Notes__formsemestre_list__formsemestre_id=SEM9999.xml")))
  t.eq(empty, { tag = "formsemestre_list", attrs = {} })
end)

-- groups_view answers exist as XML and JSON: <etud><name value="v"/>...</etud>
-- must give exactly the JSON objects (ScoDoc writes JSON null as value="").
t.test("every groups_view XML answer agrees with its JSON twin", function()
  local p = io.popen("ls " .. t.root .. "/tests/fixtures/" .. R .. " | grep '^INFO__Scolarite__groups_view.*\\.xml$'")
  local compared = 0
  for name in p:lines() do
    local twin = name:gsub("%.xml$", ".json")
    local f = io.open(t.root .. "/tests/fixtures/" .. R .. twin)
    if f then
      local want = json.decode(f:read("a"))
      f:close()
      for _, etud in ipairs(want) do
        for k, v in pairs(etud) do
          if v == json.null then etud[k] = "" end
        end
      end
      local root = assert(xml.parse(t.fixture(R .. name)))
      t.eq(root.tag, "group_list")
      local got = {}
      for i, etud in ipairs(children(root, "etud")) do
        got[i] = {}
        for _, field in ipairs(etud) do got[i][field.tag] = field.attrs.value end
      end
      t.eq(got, want, name)
      compared = compared + 1
    end
  end
  p:close()
  t.ok(compared >= 10, "compared " .. compared)
end)

t.test("every XML fixture parses", function()
  local p = io.popen("ls " .. t.root .. "/tests/fixtures/" .. R .. "*.xml")
  local n = 0
  for path in p:lines() do
    local f = assert(io.open(path, "rb"))
    local root, err = xml.parse(f:read("a"))
    f:close()
    if not root then error(path .. ": " .. err) end
    t.eq(type(root.tag), "string")
    n = n + 1
  end
  p:close()
  t.ok(n > 150, "parsed " .. n)
end)

t.test("entities, character references and CDATA", function()
  local root = assert(xml.parse(
    '<a t="&lt;&gt;&amp;&quot;&apos;">x &amp; y &#233;&#xE9;&#x1F600; <![CDATA[<b>&amp;</b>]]>!</a>'))
  t.eq(root.attrs.t, "<>&\"'")
  t.eq(#root, 1) -- adjacent text and CDATA merged into one string
  t.eq(root[1], "x & y éé\u{1F600} <b>&amp;</b>!")
  t.fails("^xml: undefined entity at line 1, column 4$", xml.parse("<a>&nbsp;</a>"))
  t.fails("undefined entity", xml.parse('<a x="&bogus;"/>'))
end)

t.test("empty elements, mixed content and whitespace", function()
  t.eq(xml.parse('<a x="1" />'), { tag = "a", attrs = { x = "1" } })
  t.eq(xml.parse("<a></a>"), { tag = "a", attrs = {} })
  local root = xml.parse("<p>one <b>two</b> three<br/>\n  <i> </i></p>")
  t.eq(root, { tag = "p", attrs = {}, "one ", { tag = "b", attrs = {}, "two" }, " three",
    { tag = "br", attrs = {} }, { tag = "i", attrs = {} } })
  local kept = xml.parse("<p>\n  <i> </i>\n</p>", { keep_whitespace = true })
  t.eq(kept, { tag = "p", attrs = {}, "\n  ", { tag = "i", attrs = {}, " " }, "\n" })
  -- text is not trimmed, line ends are normalised by XML itself
  t.eq(xml.parse("<a>  x\r\n y  </a>")[1], "  x\n y  ")
end)

t.test("comments, processing instructions and namespaces", function()
  local root = xml.parse('<?xml version="1.0"?><!-- c --><s:a xmlns:s="urn:x"><?pi data?>a<!-- c -->b</s:a>')
  t.eq(root, { tag = "s:a", attrs = { ["xmlns:s"] = "urn:x" }, "ab" })
end)

t.test("encodings: declared Latin-1, windows-1252 and UTF-16 become UTF-8", function()
  t.eq(xml.parse('<?xml version="1.0" encoding="ISO-8859-1"?><a v="\xE9">\xE0</a>'),
    { tag = "a", attrs = { v = "é" }, "à" })
  t.eq(xml.parse('<?xml version="1.0" encoding="windows-1252"?><a>\x80\x9C\xE9\x9D</a>')[1], "€œé\u{9D}")
  local utf16 = ("\xFF\xFE" .. ("<a>é</a>"):gsub("\xC3\xA9", "\xE9"):gsub(".", "%0\0"))
  t.eq(xml.parse(utf16), { tag = "a", attrs = {}, "é" })
  t.fails("unknown encoding", xml.parse('<?xml version="1.0" encoding="koi8-r"?><a/>'))
  t.fails("not well%-formed", xml.parse("<a>\xFF</a>"))
end)

t.test("malformed XML gives nil and an error with line and column", function()
  local cases = {
    { "", "no element found at line 1, column 1" },
    { "   ", "no element found at line 1, column 4" },
    { "text", "syntax error at line 1, column 1" },
    { "<a>", "no element found at line 1, column 4" },
    { "<a><b></a>", "mismatched tag at line 1, column 9" },
    { "<a>\n  <b>\n</c></a>", "mismatched tag at line 3, column 3" },
    { "<a x=1/>", "not well-formed (invalid token) at line 1, column 6" },
    { '<a x="1" x="2"/>', "duplicate attribute at line 1, column 10" },
    { "<a/><b/>", "junk after document element at line 1, column 5" },
    { "<a>x < y</a>", "not well-formed (invalid token) at line 1, column 7" },
    { "<a>&</a>", "not well-formed (invalid token) at line 1, column 5" },
    { "<a>\0</a>", "not well-formed (invalid token) at line 1, column 4" },
    { "<1a/>", "not well-formed (invalid token) at line 1, column 2" },
    { '<?xml version="1.0"?>\n<r>\n <é x="1">\n</r>', "mismatched tag at line 4, column 3" },
  }
  for _, c in ipairs(cases) do
    local v, err = xml.parse(c[1])
    if v ~= nil or err ~= "xml: " .. c[2] then
      error(string.format("parse(%q): got %s, %s; want nil, %q", c[1], t.show(v), t.show(err), "xml: " .. c[2]))
    end
  end
end)

t.test("DOCTYPE and entity declarations are refused (billion laughs)", function()
  local laughs = [[<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<lolz>&lol3;</lolz>]]
  t.fails("^xml: DOCTYPE is not allowed at line 2, column", xml.parse(laughs))
  t.fails("DOCTYPE is not allowed", xml.parse('<!DOCTYPE a SYSTEM "file:///etc/passwd"><a/>'))
  t.fails("DOCTYPE is not allowed", xml.parse("<!DOCTYPE html><html/>"))
end)

t.test("max_depth and max_size", function()
  local function nested(n) return string.rep("<a>", n) .. string.rep("</a>", n) end
  t.ok(xml.parse(nested(256)))
  t.fails("^xml: nesting deeper than 256 at line 1, column 769$", xml.parse(nested(257)))
  t.fails("nesting deeper than 2 at line 1, column 7", xml.parse(nested(3), { max_depth = 2 }))
  local deep = assert(xml.parse(nested(20000), { max_depth = 20000 }))
  local d = 0
  while deep do d, deep = d + 1, deep[1] end
  t.eq(d, 20000)
  t.fails("^xml: input too large %(8 > 7 bytes%)$", xml.parse("<a>x</a>", { max_size = 7 }))
  t.ok(xml.parse("<a>x</a>", { max_size = 8 }))
  t.fails("input too large %(16777217 > 16777216 bytes%)", xml.parse(string.rep(" ", 16 * 1024 * 1024 + 1)))
end)

t.test("options are checked", function()
  t.raises(function() xml.parse("<a/>", { depth = 3 }) end, "unknown option 'depth'")
  t.raises(function() xml.parse("<a/>", { max_depth = 0 }) end, "option 'max_depth' must be an integer")
  t.raises(function() xml.parse("<a/>", { max_size = -1 }) end, "option 'max_size' must be an integer")
  t.raises(function() xml.parse("<a/>", { keep_whitespace = 1 }) end, "option 'keep_whitespace' must be a boolean")
  t.raises(function() xml.parse() end, "string expected")
end)

t.test("a failed parse leaves nothing behind", function()
  for _ = 1, 300 do
    xml.parse(string.rep("<a b='x'>text", 200) .. "<oops")
  end
  collectgarbage()
  collectgarbage()
  t.ok(collectgarbage("count") < 20000)
end)
