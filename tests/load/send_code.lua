wrk.method = "POST"
wrk.headers["content-type"] = "application/json"
function request()
  return wrk.format(nil, nil, nil, '{"account":"load' .. math.random(1, 1000000000) .. '@example.com","flag":"register"}')
end
