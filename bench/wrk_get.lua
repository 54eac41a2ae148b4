-- GET with a prepared path and session cookie per request (round robin), or the URL's path.
dofile((os.getenv("WRK_LUA_DIR") or "bench") .. "/wrk_common.lua")

function request()
  local line = next_line()
  if line == nil then return wrk.format("GET") end
  return wrk.format("GET", line[1], {["Cookie"] = line[2]})
end
