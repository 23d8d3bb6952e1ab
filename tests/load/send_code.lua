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
  return wrk.format(nil, nil, nil, '{"account":"load' .. math.random(1, 1000000000) .. '@example.com","flag":"register"}')
end
