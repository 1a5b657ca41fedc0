-- What the `sis <command>` scripts (scripts/cli/*.lua) share: the error
-- exits (1: the upstream or the parser failed, 2: a usage error), --help,
-- the option loop and how an answer is printed.
--   local cli = require "lib.cli"
--   local c = cli.new("focus", USAGE)           -- USAGE ends with a newline
--   local opts, words = c.options(args, { url = true }, { url = os.getenv("X") })
--   c.die(msg [, code]); c.usage_error(msg); c.print_json(value)
--   c.password("SIS_FOCUS_PASSWORD", "Focus password"); cli.is_tty(fd)
local json = require "sis.json"

local M = {}

-- Whether file descriptor fd (0, 1, 2) is a terminal.
function M.is_tty(fd) return os.execute("test -t " .. fd) == true end

-- show_usage: usage errors print the whole usage after the message (else
-- they point to `sis NAME --help`).
function M.new(name, usage, show_usage)
  local c = {}

  -- "sis NAME: msg" on stderr, exit status `code` (default 2).
  function c.die(msg, code)
    io.stderr:write("sis ", name, ": ", msg, "\n")
    os.exit(code or 2, true)
  end

  function c.usage_error(msg)
    if not show_usage then c.die(msg .. " (sis " .. name .. " --help)") end
    io.stderr:write("sis ", name, ": ", msg, "\n", usage)
    os.exit(2, true)
  end

  -- args → opts, words. -h/--help prints the usage and exits 0; `--NAME VALUE`
  -- sets opts.NAME for each NAME in `names` (over `opts`, the defaults), and
  -- `--NAME` alone sets it to true when names[NAME] is "flag";
  -- refused[NAME] is the message for an option that must never be given
  -- (the password); any other argument that starts with "-" (but "-", stdin)
  -- is a usage error; the rest are words, in order.
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
      elseif opt and names[opt] == "flag" then
        opts[opt] = true
      elseif opt and names[opt] then
        opts[opt] = args[i + 1] or c.usage_error(a .. " needs a value")
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

  -- A password: the environment variable `env`, else asked on the terminal
  -- without echo (`prompt`), else a line of stdin; never the command line.
  function c.password(env, prompt)
    local given = os.getenv(env)
    if given then return given end
    if not M.is_tty(0) then return io.read("l") or c.die("no password (" .. env .. " or stdin)") end
    io.stderr:write(prompt, ": ")
    io.stderr:flush()
    os.execute("stty -echo")
    local ok, pw = pcall(io.read, "l")
    os.execute("stty echo")
    io.stderr:write("\n")
    if not ok or not pw then c.die("no password given") end
    return pw
  end

  -- The answer on stdout: pretty JSON, keys sorted.
  function c.print_json(value)
    io.write(json.encode(value, { pretty = true }), "\n")
  end

  return c
end

return M
