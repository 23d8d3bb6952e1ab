-- Unknown accounts with wrong passwords: each costs a full argon2id verify, and none repeats
-- often enough to be locked out.
-- Each thread seeds its own generator; identical sequences would collide on the same account.
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("id", threads)
end
function init(args) math.randomseed(os.time() * 1000 + id) end
wrk.method = "POST"
wrk.headers["content-type"] = "application/json"
function request()
  return wrk.format(nil, nil, nil, '{"username":"nobody' .. math.random(1, 1000000000) .. '","password":"wrong-pass"}')
end
