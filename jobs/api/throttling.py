"""The API's per-user request rate (LEPTON_API_RATE), kept as one number per user."""

from rest_framework import throttling


class UserRateThrottle(throttling.UserRateThrottle):
    """DRF's per-user rate and cache key, counted by the generic cell rate algorithm.

    DRF's own throttle keeps the time of every request in the last window and moves that
    list through the cache on every request: at the default 1,200 a minute, up to 1,200
    floats pickled both ways per request (over the network with LEPTON_CACHE_URL). Here
    the cache holds one time per user, when its next request is due if it spaced them
    evenly; a user may run up to a whole window's requests ahead of that, so a burst of
    the rate's count passes and the next waits for one interval to pass.
    """

    wait_seconds = None

    def allow_request(self, request, view):
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        now = self.timer()
        interval = self.duration / self.num_requests
        due = max(self.cache.get(self.key, now), now)
        ahead = due - now
        if ahead > self.duration - interval:
            self.wait_seconds = ahead - (self.duration - interval)
            return False
        self.cache.set(self.key, due + interval, int(ahead + interval) + 1)
        return True

    def wait(self):
        return self.wait_seconds
