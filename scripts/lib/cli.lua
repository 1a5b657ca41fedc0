-- What the `sis <command>` scripts (scripts/cli/*.lua) share: the error
-- exits (1: the upstream or the parser failed, 2: a usage error), --help,
-- the option loop, the password prompt and how an answer is printed.
--   local cli = require "lib.cli"
--   local c = cli.new("focus", USAGE)           -- USAGE ends with a newline
--   local opts, words = c.options(args, { url = true, timeout = cli.seconds },
--                                 { url = os.getenv("X"), timeout = 30 })
--   c.die(msg [, code]); c.usage_error(msg); c.print_json(value)
--   local pw = c.password("SIS_FOCUS_PASSWORD", "Focus password")
--
-- A command's failure is said once, by its final message: unless
-- SIS_LOG_LEVEL (--log-level) says otherwise, a command logs warnings and
-- errors (the parsers' warnings among them), holds those lines, and writes
-- them before its answer or its final message, but a line that final
-- message repeats (a service logs the failure it returns). With a level
-- given, the log is written as it comes, whole.
local json = require "sis.json"
local log = require "sis.log"
local term = require "sis.term"

local M = {}

-- Option value checkers for c.options: the value, or nil and why not.
-- A timeout in seconds, as sis.http takes it: ]0, 86400].
function M.seconds(s)
  local v = tonumber(s)
  if v and v > 0 and v <= 86400 then return v end
  return nil, "wants a number of seconds in ]0, 86400], not '" .. s .. "'"
end

-- show_usage: usage errors print the whole usage after the message (else
-- they point to `sis NAME --help`).
function M.new(name, usage, show_usage)
  local c = {}
  if not os.getenv("SIS_LOG_LEVEL") then
    log.level("warn")
    log.hold()
  end

  -- "sis NAME: msg" on stderr (after the held log lines it does not
  -- repeat), exit status `code` (default 2).
  function c.die(msg, code)
    log.release(msg)
    io.stderr:write("sis ", name, ": ", log.redact(msg), "\n")
    os.exit(code or 2, true)
  end

  function c.usage_error(msg)
    if not show_usage then c.die(msg .. " (sis " .. name .. " --help)") end
    io.stderr:write("sis ", name, ": ", msg, "\n", usage)
    os.exit(2, true)
  end

  -- args → opts, words. -h/--help prints the usage and exits 0; `--NAME VALUE`
  -- sets opts.NAME for each NAME in `names` (over `opts`, the defaults);
  -- names[NAME] is true (the value as given) or a checker (M.seconds) whose
  -- refusal is a usage error; refused[NAME] is the message for an option
  -- that must never be given (the password); any other argument that
  -- starts with "-" (but "-", stdin) is a usage error; the rest are words,
  -- in order.
  function c.options(args, names, opts, refused)
    opts, refused = opts or {}, refused or {}
    local words = {}
    local i = 1
    while i <= #args do
      local a = args[i]
      local opt = a:match("^%-%-(.+)$")
      if a == "-h" or a == "--help" then
        io.write(usage)
        os.exit(0, true)
      elseif opt and names[opt] then
        local value = args[i + 1] or c.usage_error(a .. " needs a value")
        if names[opt] ~= true then
          local why
          value, why = names[opt](value)
          if value == nil then c.usage_error(a .. " " .. why) end
        end
        opts[opt] = value
        i = i + 1
      elseif opt and refused[opt] then
        c.die(refused[opt])
      elseif a:match("^%-.") then
        c.usage_error("unknown option " .. a)
      else
        words[#words + 1] = a
      end
      i = i + 1
    end
    return opts, words
  end

  -- The password for `what` ("Focus password"): the environment variable
  -- `env`, else asked on the terminal without echo (Ctrl-C stops at once),
  -- else a line of stdin. Never from argv.
  function c.password(env, what)
    local pw, err = os.getenv(env), nil
    if pw then return pw end
    if not term.isatty(0) then
      return io.read("l") or c.die("no " .. what .. " (set " .. env .. " or give it on stdin)")
    end
    pw, err = term.read_password(what .. ": ")
    if err == "interrupted" then os.exit(130, true) end
    return pw or c.die("no " .. what .. " (" .. err .. ")")
  end

  -- The answer on stdout: pretty JSON, keys sorted.
  function c.print_json(value)
    log.release()
    io.write(json.encode(value, { pretty = true }), "\n")
  end

  return c
end

return M
