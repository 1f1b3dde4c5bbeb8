"""The cache on Redis, which the site can live without.

Production shares one Redis between the Celery broker and the cache. The broker being down is
already survivable (DESIGN §10: changes land in the outbox and the sweep delivers later); the
cache must be too, or every page that counts something in it (sign-off and login rate limits,
the partner API's throttle) would answer 500 while Redis is away. So when Redis does not
answer, this backend behaves as Django's dummy cache does: nothing is found, nothing is kept
(a rate limit then counts nothing and lets the request through; the password or code is still
checked), and it says so in the log. It picks up again by itself when Redis is back.
"""

import functools
import logging
import time

from django.core.cache.backends.redis import RedisCache
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

# One warning per this many seconds per process, not one per cache call.
WARN_EVERY = 60.0


def _survives(fallback):
    """Run the cache operation; when Redis fails, log it and answer `fallback(args, kwargs)`."""

    def decorate(method):
        @functools.wraps(method)
        def wrapper(self, *args, **kwargs):
            try:
                return method(self, *args, **kwargs)
            except RedisError as error:
                now = time.monotonic()
                if now - self._warned_at >= WARN_EVERY:
                    self._warned_at = now
                    logger.warning("The cache (Redis) is unavailable, going on without: %s", error)
                return fallback(args, kwargs)

        return wrapper

    return decorate


def _default(args, kwargs):
    return kwargs.get("default", args[1] if len(args) > 1 else None)


class ResilientRedisCache(RedisCache):
    _warned_at = -WARN_EVERY

    get = _survives(_default)(RedisCache.get)
    get_many = _survives(lambda a, k: {})(RedisCache.get_many)
    has_key = _survives(lambda a, k: False)(RedisCache.has_key)
    # As the dummy cache: `add` says it stored the value, so a lock taken with it does not wait.
    add = _survives(lambda a, k: True)(RedisCache.add)
    set = _survives(lambda a, k: None)(RedisCache.set)
    set_many = _survives(lambda a, k: list(a[0]) if a else [])(RedisCache.set_many)
    touch = _survives(lambda a, k: False)(RedisCache.touch)
    delete = _survives(lambda a, k: False)(RedisCache.delete)
    delete_many = _survives(lambda a, k: None)(RedisCache.delete_many)
    clear = _survives(lambda a, k: False)(RedisCache.clear)

    @_survives(lambda a, k: _missing(a))
    def incr(self, key, delta=1, version=None):
        return super().incr(key, delta, version)


def _missing(args):
    raise ValueError(f"Key '{args[0] if args else ''}' not found (the cache is unavailable).")
