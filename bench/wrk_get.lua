-- GET with a prepared path and session cookie per request (round robin), or the URL's path.
-- Every request says Accept-Encoding: gzip, as every phone browser does; an app that does not
-- compress (the bare app) just ignores it.
dofile((os.getenv("WRK_LUA_DIR") or "bench") .. "/wrk_common.lua")

function request()
  local line = next_line()
  if line == nil then return wrk.format("GET", nil, {["Accept-Encoding"] = "gzip"}) end
  return wrk.format("GET", line[1], {["Cookie"] = line[2], ["Accept-Encoding"] = "gzip"})
end
