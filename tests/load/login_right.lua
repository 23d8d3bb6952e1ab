-- Spread over the seeded accounts loaduser0..loaduser49 (one per connection by default): an
-- account's attempts are reserved before its password is checked, so many logins in flight on
-- one account would measure its lockout.
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("id", threads)
end
function init(args) math.randomseed(os.time() * 1000 + id) end
wrk.method = "POST"
wrk.headers["content-type"] = "application/json"
function request()
  local n = math.random(0, 49)
  return wrk.format(nil, nil, nil, '{"username":"loaduser' .. n .. '","password":"load-pass-1"}')
end
