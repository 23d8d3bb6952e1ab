wrk.method = "POST"
wrk.headers["content-type"] = "application/json"
function request()
  local n = math.random(1, 1000000000)
  return wrk.format(nil, nil, nil, '{"username":"user' .. n .. 'x","password":"load-pass-1","email":"user' .. n .. '@example.com"}')
end
