-- Focus course gradebook (Modules.php?modname=Grades/StudentGBGrades.php&course_period_id=N):
-- the course, its current grade, its grading categories and its assignments.
-- Layouts read (docs/compatibility.md, "Later Focus generations"): the
-- category table in td.GrayDrawHeader (2016-17) or td.DarkGradientBG (2018 on;
-- a course without categories has only #currentStudentGrade[] there); the
-- assignment columns found by their header (data-column / data-assoc / text)
-- and, in rows whose cells carry data-col (~2020), by that name.
local common = require "focus.common"
local json = require "sis.json"

-- "91% A-" (NBSP or space) → 91, "A-"; a letter is optional.
local function percent_letter(text)
  -- stripped first: "(.-)%s*$" would backtrack quadratically over blanks
  local percent, letter = common.strip(common.nbsp_to_space(text)):match("^([%d.]+)%%(.*)$")
  if not percent then return nil end
  letter = common.strip(letter)
  return common.number(percent), letter ~= "" and letter or nil
end

-- The category table: in the first td.GrayDrawHeader or td.DarkGradientBG
-- that holds rows or the current grade: names, weights and scores rows; the
-- last column is the weighted grade. nil when the page has none (a course
-- without categories, whose box may hold only the current grade); a table of
-- fewer than 3 rows is a warning.
local CATEGORY_BOX = "td.GrayDrawHeader, td.DarkGradientBG"
local GRADE = '[id="currentStudentGrade[]"]'

local function category_box(doc)
  for _, box in ipairs(doc:select(CATEGORY_BOX)) do
    if box:select_one("tr") or box:select_one(GRADE) then return box end
  end
  return nil
end

local function read_categories(doc)
  local box = category_box(doc)
  if not box then return nil end
  local rows = box:select("tr")
  if #rows < 3 and box:select_one(GRADE) then return nil end -- no categories: the grade alone
  if #rows < 3 then
    common.warn { field = "categories", selector = CATEGORY_BOX .. " tr",
                  message = #rows .. " rows, names, weights and scores expected", seen = box:text() }
    return nil
  end
  local names, weights, scores = rows[1]:select("td"), rows[2]:select("td"), rows[3]:select("td")
  local categories = json.array()
  for i = 1, #names - 1 do
    local name = names[i]:text()
    if not common.is_blank(name) and name ~= "Weighted Grade" then
      local category = { name = name }
      local weight = weights[i] and common.strip(weights[i]:text()):match("^(.-)%%?$")
      category.percent_weight = common.number(weight)
      if not category.percent_weight and weight and weight ~= "" then
        common.warn { field = "categories.*.percent_weight", row = name, selector = CATEGORY_BOX .. " tr (2nd)", seen = weight }
      end
      if i < #scores then
        category.percent_grade, category.letter_grade = percent_letter(scores[i]:text())
      end
      categories[#categories + 1] = category
    end
  end
  return categories
end

-- The assignment list's columns: role → {at = 1-based position, col =
-- data-col name}. Headers are known by their data-assoc, data-column or text
-- (2016-17: Assignment, Points / Possible, Grade, Comment, Assigned, Due,
-- Category, ...; 2019 drops Resources; ~2020 reorders them and names the
-- cells with data-col). Without headers, the 2016-17 positions.
local ROLES = {
  assignmenttitle = "name", assignment = "name", title = "name",
  points = "points", pointspossible = "points",
  grade = "grade", percent = "grade",
  comment = "comment", comments = "comment",
  assigneddate = "assigned", assigned = "assigned",
  duedate = "due", due = "due",
  category = "category", categoryid = "category",
}
local POSITIONS = { name = 1, points = 2, grade = 3, comment = 4, assigned = 5, due = 6, category = 7 }

-- (the attribute values as Focus writes them first: no clean-up needed)
local EXACT = {
  ASSIGNMENT_TITLE = "name", POINTS = "points", GRADE = "grade", COMMENT = "comment",
  ASSIGNED_DATE = "assigned", DUE_DATE = "due", CATEGORY = "category",
  assignment_title = "name", points = "points", grade = "grade", comment = "comment",
  assigned_date = "assigned", due_date = "due", category = "category",
}

local function role_of(s)
  if not s then return nil end
  return EXACT[s] or ROLES[(common.collapse(s):lower():gsub("[^%w]", ""))]
end

local function columns_of(doc)
  local headers = doc:select("td.LO_header")
  if #headers == 0 then
    local cols = {}
    for role, at in pairs(POSITIONS) do cols[role] = { at = at } end
    return cols
  end
  local cols = {}
  for i, td in ipairs(headers) do
    local assoc = td:attr("data-assoc")
    local role = role_of(assoc) or role_of(td:attr("data-column")) or role_of(td:text())
    if role and not cols[role] then cols[role] = { at = i, col = assoc } end
    if assoc then cols.by_name = true end -- (rows name their cells: data-col)
  end
  for role, at in pairs(POSITIONS) do
    -- (no Category header: a course without categories, column 7 holds its files)
    if not cols[role] and role ~= "category" then
      common.warn { field = "assignments.*." .. (role == "points" and "status" or role), selector = "td.LO_header",
                    message = "no column header for '" .. role .. "'; column " .. at .. " is read" }
      cols[role] = { at = at }
    end
  end
  return cols
end

-- stm(["Title","Description"],[style...]) → the description.
local function description(cell)
  local div = cell:select_one("div[onmouseover]")
  if not div then return nil end
  local js = div:attr("onmouseover")
  local from, to = js:find('","', 1, true), js:find('"],["', 1, true)
  if not from or not to or to < from then return nil end
  return (js:sub(from + 3, to - 1):gsub("\\r\\n", "\n"))
end

-- The points codes Focus writes instead of earned points (lower-cased,
-- spaces collapsed) → status. "N / 0" (no points possible) is extra credit.
local POINTS_CODES = {
  ["*"] = "excluded", e = "excluded", excluded = "excluded",
  ng = "ng",
  m = "missing", missing = "missing",
  ec = "extra", extra = "extra", ["extra credit"] = "extra",
  i = "incomplete",
}

-- The points cell "earned / possible" (or a pass/fail image) → a.status,
-- a.student_grade, a.max_grade, the overall grade from the grade cell.
local function read_points(a, row, points_cell, grade_cell)
  -- pass/fail marks are images in the points cell (an attachment icon elsewhere is not a grade)
  local img = points_cell:select_one("img")
  if img then
    a.status = img:attr("src") == "assets/check.png" and "pass" or "fail"
    return
  end
  local points = points_cell:text()
  -- split at the first "/" with a plain find: a pattern such as
  -- "^%s*(.-)%s*/%s*(.-)%s*$" backtracks cubically over blanks
  local slash = points:find("/", 1, true)
  local earned = common.collapse(slash and points:sub(1, slash - 1) or points)
  local possible = slash and common.strip(points:sub(slash + 1)) or ""
  a.max_grade = common.number(possible)
  if possible ~= "" and not a.max_grade then
    common.warn { field = "assignments.*.max_grade", row = row, selector = "td.LO_field (2nd)", seen = points }
  end
  local code = POINTS_CODES[earned:lower()]
  if code then
    a.status = code
    return
  end
  local grade = common.number(earned)
  if not grade then
    -- a code we do not know: kept as the status, no grade, and said
    a.status = earned ~= "" and earned:lower() or "unknown"
    common.warn { field = "assignments.*.status", row = row, selector = "td.LO_field (2nd)",
                  message = "unknown points code", seen = points }
    return
  end
  a.student_grade = grade + 0.0
  local grade_text = grade_cell:text()
  if common.strip(grade_text) == "Extra Credit" or a.max_grade == 0 then
    a.status = "extra"
  else
    a.status = "graded"
    a.percent_overall_grade, a.letter_overall_grade = percent_letter(grade_text)
    if not a.percent_overall_grade and not common.is_blank(grade_text) then
      common.warn { field = "assignments.*.percent_overall_grade", row = row,
                    selector = "td.LO_field (3rd)", seen = grade_text }
    end
  end
end

-- A date cell → ISO date-time; a cell that is not blank and not a date is a warning.
local function read_date(a, key, row, cell, which)
  a[key] = common.iso_datetime(cell:text())
  if not a[key] and not common.is_blank(cell:text()) then
    common.warn { field = "assignments.*." .. key, row = row, selector = "td.LO_field (" .. which .. ")", seen = cell:text() }
  end
end

local ALL_ROLES = { "name", "points", "grade", "comment", "assigned", "due", "category" }

-- A row's cells by role: by data-col when the headers name the columns
-- (data-assoc) and the row's cells carry it, else by the header's position.
local function row_cells(tr, cols)
  local td = tr:select("td.LO_field")
  local named
  if cols.by_name then
    named = {}
    for _, cell in ipairs(td) do
      local col = cell:attr("data-col")
      if col then named[col] = cell end
    end
  end
  local cells = {}
  for _, role in ipairs(ALL_ROLES) do
    local c = cols[role]
    if c then cells[role] = (named and c.col and named[c.col]) or td[c.at] end
  end
  return cells, #td
end

local REQUIRED = { "name", "points", "grade", "comment", "assigned", "due" }

-- One assignment row → the assignment, or nil (a warning) when the row has
-- too few cells to be one.
local function read_assignment(tr, cols)
  local row = tr:attr("id")
  local td, n = row_cells(tr, cols)
  for _, role in ipairs(REQUIRED) do
    if not td[role] then
      common.warn { field = "assignments", row = row, selector = "td.LO_field",
                    message = n .. " cells, no " .. role .. " cell", seen = tr:text() }
      return nil
    end
  end
  local a = { name = td.name:text(), description = description(td.name) }
  read_points(a, row, td.points, td.grade)
  if not common.is_blank(td.comment:text()) then a.comment = td.comment:text() end
  if td.category and not common.is_blank(td.category:text()) then a.category = td.category:text() end
  read_date(a, "assigned", row, td.assigned, "assigned")
  read_date(a, "due", row, td.due, "due")
  return a
end

return function(doc)
  local title = common.collapse(doc:title() or common.fail("no <title>"))
  local t = common.course_title(title, true)
  if not t or not t.name then
    common.fail("title '%s' is not a course-period title 'Name - Period N - Days - Room - Teacher'", title)
  end
  local link = common.need(doc, 'a[href*="course_period_id="]')
  local course = {
    id = link:attr("href"):match("course_period_id=(%d+)")
      or common.fail("no course_period_id in '%s'", link:attr("href")),
    name = t.name,
    period = t.period,
    teacher = t.teacher,
  }
  local grade = doc:select_one(GRADE)
  if grade then course.percent_grade, course.letter_grade = percent_letter(grade:text()) end
  course.categories = read_categories(doc)

  local rows = common.list_rows(doc)
  if #rows > 0 then
    local cols = columns_of(doc)
    if cols.category and #doc:select("td.LO_header") > 0 and not course.categories
        and not doc:select_one(CATEGORY_BOX) then
      -- the assignments have categories, the page has no category table
      common.warn { field = "categories", selector = CATEGORY_BOX }
    end
    course.assignments = json.array()
    for _, tr in ipairs(rows) do course.assignments[#course.assignments + 1] = read_assignment(tr, cols) end
  end
  return course
end
