-- Spread over the seeded accounts loaduser0..loaduser49 (one per connection by default): an
-- account's attempts are reserved before its password is checked, so many logins in flight on
-- one account would measure its lockout. POLYAUTH_LOAD_LOGIN replaces the body (%d: the account),
-- for the peer's accounts.
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("id", threads)
end
function init(args) math.randomseed(os.time() * 1000 + id) end
wrk.method = "POST"
wrk.headers["content-type"] = "application/json"
local body = os.getenv("POLYAUTH_LOAD_LOGIN") or '{"username":"loaduser%d","password":"tulip-river-93"}'
function request()
  return wrk.format(nil, nil, nil, string.format(body, math.random(0, 49)))
end
