package dev.ferry.migration;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The last {@code capacity} ids remembered, oldest forgotten first: a bounded memory of
 * migrations a host must refuse, for requests that arrive late (an agent continued after a stop
 * finds its queued requests in any order). A restart forgets them, and with it the late requests.
 */
final class RecentIds {
    private final Map<String, Boolean> ids;

    RecentIds(int capacity) {
        this.ids = new LinkedHashMap<>(16, 0.75f, false) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<String, Boolean> eldest) {
                return size() > capacity;
            }
        };
    }

    synchronized void remember(String id) {
        ids.put(id, Boolean.TRUE);
    }

    synchronized boolean contains(String id) {
        return ids.containsKey(id);
    }
}
