-- wrk script of the HTTP benchmark (run.sh): every request POSTs one
-- GraphQL-over-HTTP body, and every answer is checked for what its arm
-- expects, so that a fast wrong answer is not counted as a fast answer.
--   wrk -s graphql-post.lua URL -- BODY_FILE EXPECT [TOKEN]
-- EXPECT: "clean"   an answer with an "errors" member is wrong;
--         "refused" an answer without a FORBIDDEN error is wrong (the
--                   arm whose principal may read no legalName);
--         "any"     answers are not read (the warm-up).
-- done() prints one line, "result" and key=value pairs, for run.sh.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Accept"] = "application/graphql-response+json, application/json"

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  local f = assert(io.open(args[1], "rb"), "cannot read the body file " .. tostring(args[1]))
  wrk.body = f:read("*a")
  f:close()
  if args[3] and args[3] ~= "" then
    wrk.headers["Authorization"] = "Bearer " .. args[3]
  end
  wrong = 0
  local expect = args[2] or "any"
  -- Defining response() makes wrk hand every body to Lua: only when
  -- answers are to be read.
  if expect == "clean" then
    response = function(status, headers, body)
      if status == 200 and body and string.find(body, '"errors"', 1, true) then wrong = wrong + 1 end
    end
  elseif expect == "refused" then
    response = function(status, headers, body)
      if status == 200 and not (body and string.find(body, '"FORBIDDEN"', 1, true)) then wrong = wrong + 1 end
    end
  end
end

function done(summary, latency, requests)
  local wrong_answers = 0
  for _, t in ipairs(threads) do
    wrong_answers = wrong_answers + (t:get("wrong") or 0)
  end
  local e = summary.errors
  io.write(string.format(
    "result requests=%d seconds=%.3f p50_ms=%.2f p99_ms=%.2f non2xx=%d socket_errors=%d wrong_answers=%d\n",
    summary.requests, summary.duration / 1e6,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    e.status, e.connect + e.read + e.write + e.timeout, wrong_answers))
end
