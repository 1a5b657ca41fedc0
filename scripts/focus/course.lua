-- Focus course gradebook (Modules.php?modname=Grades/StudentGBGrades.php&course_period_id=N):
-- the course, its current grade, its grading categories and its assignments.
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

-- The category table inside the first td.GrayDrawHeader: names, weights and
-- scores rows; the last column is the weighted grade.
local function read_categories(doc)
  local box = doc:select_one("td.GrayDrawHeader")
  if not box then return nil end
  local rows = box:select("tr")
  if #rows < 3 then return nil end
  local names, weights, scores = rows[1]:select("td"), rows[2]:select("td"), rows[3]:select("td")
  local categories = json.array()
  for i = 1, #names - 1 do
    local name = names[i]:text()
    if not common.is_blank(name) and name ~= "Weighted Grade" then
      local category = { name = name }
      local weight = weights[i] and common.strip(weights[i]:text()):match("^(.-)%%?$")
      category.percent_weight = common.number(weight)
      if i < #scores then
        category.percent_grade, category.letter_grade = percent_letter(scores[i]:text())
      end
      categories[#categories + 1] = category
    end
  end
  return categories
end

-- The 1-based column of the Category header, or nil when the course has no
-- categories (its column 7 then holds the assignment files).
local function category_column(doc)
  local headers = doc:select("td.LO_header")
  if #headers == 0 then return 7 end
  for i, td in ipairs(headers) do
    if common.collapse(td:text()):lower() == "category" then return i end
  end
  return nil
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

local function read_assignment(tr, category_col)
  local td = tr:select("td.LO_field")
  if #td < 6 then common.fail("assignment row %s has %d cells, expected at least 6", tr:attr("id"), #td) end
  local a = { name = td[1]:text(), description = description(td[1]) }
  -- pass/fail marks are images in the points cell (an attachment icon elsewhere is not a grade)
  local img = td[2]:select_one("img")
  if img then
    a.status = img:attr("src") == "assets/check.png" and "pass" or "fail"
  else
    local points = td[2]:text()
    -- split at the first "/" with a plain find: a pattern such as
    -- "^%s*(.-)%s*/%s*(.-)%s*$" backtracks cubically over blanks
    local slash = points:find("/", 1, true)
    local earned = common.strip(slash and points:sub(1, slash - 1) or points)
    a.max_grade = slash and common.number(points:sub(slash + 1)) or nil
    if earned == "*" then
      a.status = "excluded"
    elseif earned == "NG" then
      a.status = "ng"
    elseif earned == "M" then
      a.status = "missing"
    else
      local grade = common.number(earned)
        or common.fail("assignment '%s': points '%s' are not a number", a.name, points)
      a.student_grade = grade + 0.0
      if common.strip(td[3]:text()) == "Extra Credit" then
        a.status = "extra"
      else
        a.status = "graded"
        a.percent_overall_grade, a.letter_overall_grade = percent_letter(td[3]:text())
      end
    end
  end
  if not common.is_blank(td[4]:text()) then a.comment = td[4]:text() end
  local category = category_col and td[category_col]
  if category and not common.is_blank(category:text()) then a.category = category:text() end
  a.assigned = common.iso_datetime(td[5]:text())
  a.due = common.iso_datetime(td[6]:text())
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
  local grade = doc:select_one('[id="currentStudentGrade[]"]')
  if grade then course.percent_grade, course.letter_grade = percent_letter(grade:text()) end
  course.categories = read_categories(doc)

  local rows = common.list_rows(doc)
  if #rows > 0 then
    local category_col = category_column(doc)
    course.assignments = json.array()
    for i, tr in ipairs(rows) do course.assignments[i] = read_assignment(tr, category_col) end
  end
  return course
end
