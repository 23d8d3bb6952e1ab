-- Unknown accounts with wrong passwords: each costs a full argon2id verify, and none repeats
-- often enough to be locked out.
wrk.method = "POST"
wrk.headers["content-type"] = "application/json"
function request()
  return wrk.format(nil, nil, nil, '{"username":"nobody' .. math.random(1, 1000000000) .. '","password":"wrong-pass"}')
end
