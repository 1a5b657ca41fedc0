-- Focus portal (Modules.php?modname=misc/Portal.php): the student's courses
-- with current grades, upcoming events, the upcoming-assignment alerts and the
-- absence alert. Output: {courses?, events?, alert?, alerts?} (docs/compatibility.md).
-- The course list is read in either layout, recognised row by row: a link
-- titled "Name - Period N - Days - Room - Teacher" (2016-17; Duval's
-- "IB CHEMISTRY - 01 01 - A - 181 - Teacher A"), or the table of 2018-12 on,
-- name link | period | teacher | ... | grade link (FocusSIS PortalParser.java:44),
-- which shows no meeting days.
local common = require "focus.common"
local json = require "sis.json"

-- Course links: "Modules.php?modname=Grades/StudentGBGrades.php?course_period_id=N",
-- also written "...StudentGBGrades.php&course_period_id=N" or with more
-- parameters; a title may link to the course's lessons instead
-- ("Modules.php?modname=LMS/ViewLesson.php&course_period_id=N", Duval).
local COURSE_LINK = 'a[href*="course_period_id="]'

-- The block table of "Featured Programs": the row of the cell whose whole text
-- is that title, then the row's parent.
local function featured_block(doc)
  for _, td in ipairs(doc:select('td:contains("Featured Programs")')) do
    if td:text() == "Featured Programs" then return td:parent():parent() end
  end
  common.fail("no <td> whose text is 'Featured Programs'")
end

-- 2018-12 on: the name link's cell is followed by the period's and the
-- teacher's ("Period 3", "Rosalind M Tate").
local function read_table_row(course, a, text)
  local cell = a:parent()
  while cell and cell:tag() ~= "td" and cell:tag() ~= "th" do cell = cell:parent() end
  local row = cell and cell:parent()
  if not row or row:tag() ~= "tr" then return end
  local cells = common.cells(row)
  local at
  for i, c in ipairs(cells) do
    if c == cell then at = i end
  end
  if not (at and cells[at + 2]) then return end
  local name = common.collapse(text)
  local period, teacher = common.collapse(cells[at + 1]:text()), common.collapse(cells[at + 2]:text())
  -- (a grade "91% A-" next to the link: not this layout)
  if name == "" or teacher == "" or period:find("%", 1, true) or teacher:find("%", 1, true) then return end
  course.name, course.period, course.teacher = name, common.period(period), teacher
end

-- → courses by id, the courses in page order, and each course's title without
-- its name (what the alert list headers show).
local function read_courses(doc)
  local courses, order, headers = {}, {}, {}
  for _, a in ipairs(featured_block(doc):select(COURSE_LINK)) do
    local id = a:attr("href"):match("course_period_id=(%d+)")
    if id then -- (not a link to a course otherwise)
      local course = courses[id]
      if not course then
        course = { id = id }
        courses[id] = course
        order[#order + 1] = course
      end
      local text = common.nbsp_to_space(a:text())
      course.seen = course.seen or text -- (for the warning below)
      local percent, letter = common.strip(text):match("^([%d.]+)%%(.*)$")
      if percent then
        letter = common.strip(letter)
        -- "91% A-"; other grade texts (NG, P) leave the course without a grade
        course.percent_grade = common.number(percent)
        if letter ~= "" then course.letter_grade = letter end
      else
        local title = common.course_title(text, true)
        if title and title.name and (title.days or title.period) then
          course.name, course.period = title.name, title.period
          course.days, course.teacher = title.days, title.teacher
          headers[course] = common.collapse(text):sub(#title.name + 4)
        elseif not course.name then
          read_table_row(course, a, text)
        end
      end
    end
  end
  for _, course in ipairs(order) do
    if not course.name then
      common.warn { field = "courses.*.name", row = course.id, selector = COURSE_LINK,
                    message = "no link titled 'Name - Period N - Days - Room - Teacher'", seen = course.seen }
    end
    course.seen = nil
  end
  return courses, order, headers
end

-- The alert list header is the course title without its name
-- ("Period 1 - MWH - 112 - Teacher", "Advisory - MTWHF - 112 - Teacher"): it
-- names the course exactly; a header that matches no title (the 2018-12
-- table shows none) falls back to the course with the same period number and
-- teacher, then to the first with the same period number.
local function find_course(order, headers, header)
  local key = common.collapse(header)
  for _, course in ipairs(order) do
    if headers[course] == key then return course end
  end
  local t = common.course_title(header, false)
  local period = t and t.period
  if not period then return nil end
  local same_period
  for _, course in ipairs(order) do
    if course.period == period then
      if course.teacher == t.teacher then return course end
      same_period = same_period or course
    end
  end
  return same_period
end

local function read_alerts(doc, order, headers, out)
  local box = doc:select_one("td.portal_block_Alerts td.BoxContent")
  if not box then return end
  local ul = box:select_one("ul")
  if ul then
    local items = ul:select("li")
    for i = 1, #items - 1, 2 do
      local course = find_course(order, headers, items[i]:text())
      if course then
        local assignments = json.array()
        for _, tr in ipairs(items[i + 1]:select("tr")) do
          local tds = tr:select("td")
          if #tds >= 2 then
            local due = common.strip(tds[2]:text())
            due = due:match("^Due:%s*(.*)$") or due:sub(6)
            local item = { name = (tds[1]:text():gsub("\n", "")), due = common.iso_datetime(due) }
            if not item.due then
              common.warn { field = "courses.*.assignments.*.due", row = item.name,
                            selector = "td.portal_block_Alerts li tr td (2nd)", seen = tds[2]:text() }
            end
            assignments[#assignments + 1] = item
          end
        end
        course.assignments = assignments
      end
    end
  end
  -- `alert`: the first alert, as focus-api gave it; `alerts`: every alert of
  -- the box (message + url), only when there are several (one is `alert`
  -- already: the answer stays focus-api's)
  local links = box:select("a")
  if links[1] then out.alert = common.strip((links[1]:text():gsub("\n", ""))) end
  if #links > 1 then
    out.alerts = json.array()
    for i, a in ipairs(links) do
      out.alerts[i] = { message = common.strip((a:text():gsub("\n", ""))), url = a:attr("href") }
    end
  end
end

-- Upcoming events: every link of the block but the title link, zipped with the
-- block's ProperDate comments; links without "Day Mon DD: " are skipped.
local function read_events(doc)
  local block = doc:select_one("td.portal_block_Upcoming")
  local events = json.array()
  if not block then return events end
  local links = block:select("a")
  table.remove(links, 1)
  local comments = block:comments()
  for i = 1, math.min(#links, #comments) do
    local description = links[i]:text():match(":%s?(.*)$")
    local day = common.proper_date(comments[i])
    if description and day then
      events[#events + 1] = { description = description, date = day }
    end
  end
  return events
end

return function(doc)
  local out = {}
  local courses, order, headers = read_courses(doc)
  read_alerts(doc, order, headers, out)
  if #order > 0 then out.courses = courses end
  local events = read_events(doc)
  if #events > 0 then out.events = events end
  return out
end
