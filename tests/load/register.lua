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
  local n = math.random(1, 1000000000)
  return wrk.format(nil, nil, nil, '{"username":"user' .. n .. 'x","password":"tulip-river-93","email":"user' .. n .. '@example.com"}')
end
