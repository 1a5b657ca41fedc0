-- Focus "Final Grades & GPA" page (Modules.php?force_package=SIS&modname=Grades/StudentRCGrades.php).
-- Focus serves the finalGrades API only after this page was opened; the API's
-- accessID is the student id the page hands to its script:
--   new Focus.FinalGrades({"student_id":"417","syear":"2016","school_id":"2",...})
-- → {student_id = "417"} (any number of digits, quoted or not)
local common = require "focus.common"

return function(doc)
  for _, script in ipairs(doc:select("script")) do
    local id = script:text():match('"student_id"%s*:%s*"?(%d+)')
    if id then return { student_id = id } end
  end
  common.fail("no <script> holds '\"student_id\":'")
end
