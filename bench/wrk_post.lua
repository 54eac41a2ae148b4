-- POST a form: a prepared path, cookie and body per request (a different attempt each time),
-- or an empty form to the URL's path (the bare one-row insert).
dofile((os.getenv("WRK_LUA_DIR") or "bench") .. "/wrk_common.lua")

local form = {["Content-Type"] = "application/x-www-form-urlencoded"}

function request()
  local line = next_line()
  if line == nil then return wrk.format("POST", nil, form, "") end
  return wrk.format("POST", line[1], {["Cookie"] = line[2],
    ["Content-Type"] = "application/x-www-form-urlencoded"}, line[3])
end
