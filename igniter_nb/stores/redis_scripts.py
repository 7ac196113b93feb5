"""The Lua scripts of ``RedisStore`` (``stores/redis.py``, which lays out the keys they keep): a save, a delete and
the read of a correlation's active record, each one atomic step on the server.

``SAVE`` checks the expected version and the active-correlation uniqueness, writes any new parts of a packed
version, then updates the hash, every index and the history at once, so concurrent writers in any number of
processes can never lose an update, and a killed client can never leave half a save behind. ``DELETE`` takes the
execution out of every index it is in, then removes its keys. Both publish on ``<ns>:changes:<id>`` (the change
feed, ``stores/redis_changes.py``).
"""

from __future__ import annotations

from igniter_nb.stores.rules import INTERNAL_GRAPH_PREFIX

SAVE = """
local ns, id = ARGV[1], ARGV[2]
local cur = redis.call('HMGET', KEYS[1], 'version', 'graph', 'correlation', 'status', 'corr_key')
local actual = tonumber(cur[1]) or 0
if ARGV[8] ~= '' and tonumber(ARGV[8]) ~= actual then
  return {'conflict', tostring(actual)}
end
local old_graph = cur[2] or ''
local graph = ARGV[4]
if graph == '' then graph = old_graph end
if graph == '' then graph = ARGV[5] end
local corr = ARGV[6]
if corr == '' then corr = cur[3] or '' end
local status = ARGV[7]
if status == '' then status = cur[4] or '' end
local key = ''
if (status == 'running' or status == 'pending' or status == 'waiting') and graph ~= '' and corr ~= '' then
  key = ns .. ':corr:' .. graph .. ':' .. corr
end
if key ~= '' then
  local other = redis.call('GET', key)
  if other and other ~= id then
    return {'duplicate', other}
  end
end
-- parts of a packed version (stores/packing.py): ARGV[11] new ones as digest/data pairs, then every digest the
-- version refers to; a referenced part neither sent nor stored (deleted meanwhile) makes the client send all
local sent = tonumber(ARGV[11]) or 0
local new_parts = {}
for i = 0, sent - 1 do new_parts[ARGV[12 + 2 * i]] = ARGV[13 + 2 * i] end
for i = 12 + 2 * sent, #ARGV do
  if not new_parts[ARGV[i]] and redis.call('HEXISTS', KEYS[3], ARGV[i]) == 0 then
    return {'missing', ARGV[i]}
  end
end
for digest, data in pairs(new_parts) do redis.call('HSETNX', KEYS[3], digest, data) end
local old_key = cur[5] or ''
if old_key ~= '' and old_key ~= key and redis.call('GET', old_key) == id then
  redis.call('DEL', old_key)
end
local old_corr = cur[3] or ''
local latest = ''
if graph ~= '' and corr ~= '' then latest = ns .. ':corrlatest:' .. graph .. ':' .. corr end
if old_graph ~= '' and old_corr ~= '' then
  local old_latest = ns .. ':corrlatest:' .. old_graph .. ':' .. old_corr
  if old_latest ~= latest then redis.call('ZREM', old_latest, id) end
end
if old_graph ~= '' and old_graph ~= graph then
  redis.call('ZREM', ns .. ':graphcorr:' .. old_graph, id)
  redis.call('ZREM', ns .. ':graphactive:' .. old_graph, id)
end
if latest ~= '' then
  local seq = redis.call('INCR', ns .. ':saveseq')
  redis.call('ZADD', latest, seq, id)
  redis.call('ZADD', ns .. ':graphcorr:' .. graph, seq, id)
  if key ~= '' then
    redis.call('ZADD', ns .. ':graphactive:' .. graph, seq, id)
  else
    redis.call('ZREM', ns .. ':graphactive:' .. graph, id)
  end
end
-- the listing indexes (list_page), scored by the save time in us (ARGV[10]); an internal record: per graph only
local old_status = cur[4] or ''
local recent = ns .. ':recent'
if string.sub(graph, 1, @PREFIX_LEN@) == '@PREFIX@' then
  redis.call('SADD', ns .. ':internal-graphs', graph)  -- what count() checks the listing sets with
  redis.call('ZREM', recent, id)
  if old_status ~= '' then redis.call('ZREM', recent .. ':status:' .. old_status, id) end
else
  redis.call('ZADD', recent, ARGV[10], id)
  if old_status ~= '' and old_status ~= status then redis.call('ZREM', recent .. ':status:' .. old_status, id) end
  if status ~= '' then redis.call('ZADD', recent .. ':status:' .. status, ARGV[10], id) end
end
if old_graph ~= '' and old_graph ~= graph then redis.call('ZREM', recent .. ':graph:' .. old_graph, id) end
if graph ~= '' then redis.call('ZADD', recent .. ':graph:' .. graph, ARGV[10], id) end
if old_status ~= '' and old_graph ~= '' and (old_status ~= status or old_graph ~= graph) then
  redis.call('ZREM', recent .. ':gs:' .. old_status .. ':' .. old_graph, id)
end
if status ~= '' and graph ~= '' then redis.call('ZADD', recent .. ':gs:' .. status .. ':' .. graph, ARGV[10], id) end
local version = actual + 1
redis.call('PUBLISH', ns .. ':changes:' .. id, version)  -- the change feed (stores/redis_changes.py)
redis.call('HSET', KEYS[1], 'snapshot', ARGV[3], 'version', version, 'updated_at', ARGV[9],
           'graph', graph, 'correlation', corr, 'status', status, 'corr_key', key)
if key ~= '' then redis.call('SET', key, id) end
if old_graph ~= '' and old_graph ~= graph then redis.call('SREM', ns .. ':graph:' .. old_graph, id) end
if graph ~= '' then redis.call('SADD', ns .. ':graph:' .. graph, id) end
redis.call('SADD', ns .. ':ids', id)
redis.call('RPUSH', KEYS[2], '{"version":' .. version .. ',"saved_at":' .. cjson.encode(ARGV[9]) ..
  ',"graph":' .. cjson.encode(graph) .. ',"correlation":' .. cjson.encode(corr) ..
  ',"status":' .. cjson.encode(status) .. ',"snapshot":' .. ARGV[3] .. '}')
return {'ok', tostring(version)}
""".replace("@PREFIX_LEN@", str(len(INTERNAL_GRAPH_PREFIX))).replace("@PREFIX@", INTERNAL_GRAPH_PREFIX)

DELETE = """
local ns, id = ARGV[1], ARGV[2]
local cur = redis.call('HMGET', KEYS[1], 'graph', 'corr_key', 'version', 'correlation', 'status')
if not cur[3] then
  redis.call('DEL', KEYS[2], KEYS[3])
  return 0
end
local recent = ns .. ':recent'
local graph, status = cur[1] or '', cur[5] or ''
redis.call('ZREM', recent, id)
if graph ~= '' then redis.call('ZREM', recent .. ':graph:' .. graph, id) end
if status ~= '' then redis.call('ZREM', recent .. ':status:' .. status, id) end
if graph ~= '' and status ~= '' then redis.call('ZREM', recent .. ':gs:' .. status .. ':' .. graph, id) end
local key = cur[2] or ''
if key ~= '' and redis.call('GET', key) == id then redis.call('DEL', key) end
if cur[1] and cur[1] ~= '' and cur[4] and cur[4] ~= '' then
  redis.call('ZREM', ns .. ':corrlatest:' .. cur[1] .. ':' .. cur[4], id)  -- the previous save becomes the latest
end
if cur[1] and cur[1] ~= '' then
  redis.call('SREM', ns .. ':graph:' .. cur[1], id)
  redis.call('ZREM', ns .. ':graphcorr:' .. cur[1], id)
  redis.call('ZREM', ns .. ':graphactive:' .. cur[1], id)
end
redis.call('SREM', ns .. ':ids', id)
redis.call('DEL', KEYS[1], KEYS[2], KEYS[3])
redis.call('PUBLISH', ns .. ':changes:' .. id, 0)  -- the change feed: deleted
return 1
"""

FIELDS = ("snapshot", "version", "graph", "correlation", "status", "updated_at")

# The active execution of a correlation and its fields, in one round trip (what a delivery reads).
ACTIVE_RECORD = """
local id = redis.call('GET', KEYS[1])
if not id then return false end
local found = redis.call('HMGET', ARGV[1] .. ':exec:' .. id, {fields})
if not found[1] then return false end
table.insert(found, 1, id)
return found
""".format(fields=", ".join(f"'{name}'" for name in FIELDS))
