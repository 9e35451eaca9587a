package dev.ferry.migration;

import java.util.EnumMap;
import java.util.EnumSet;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Where one incoming migration stands on the destination.
 *
 * <pre>
 *   PREPARING --(QEMU listens)--> PREPARED --(stream received, ownership journaled)--> OWNED --(cont)--> RESUMED
 *       |                             |                                                  |
 *       +----------(abort)------------+--> ABORTED                                        +--(resume failed)--> OWNED_NOT_RUNNING
 * </pre>
 *
 * Only PREPARING and PREPARED may be aborted; from OWNED on, the VM is this host's and the source
 * never resumes it.
 */
public enum DestinationState {
    /** Journaled; backends and the incoming QEMU are being created. */
    PREPARING,
    /** The incoming QEMU listens; the source may send. */
    PREPARED,
    /** The stream arrived and ownership is recorded: the point of no return. */
    OWNED,
    /** The guest runs here (or stays paused here when it was paused on the source). */
    RESUMED,
    /** Owned here, but the guest could not be resumed; an operator must look. */
    OWNED_NOT_RUNNING,
    /** Torn down before it was taken; the source still owns the VM. */
    ABORTED;

    private static final Map<DestinationState, Set<DestinationState>> NEXT = new EnumMap<>(DestinationState.class);

    static {
        NEXT.put(PREPARING, EnumSet.of(PREPARED, ABORTED));
        NEXT.put(PREPARED, EnumSet.of(OWNED, ABORTED));
        NEXT.put(OWNED, EnumSet.of(RESUMED, OWNED_NOT_RUNNING));
        NEXT.put(OWNED_NOT_RUNNING, EnumSet.of(RESUMED));
        NEXT.put(RESUMED, EnumSet.noneOf(DestinationState.class));
        NEXT.put(ABORTED, EnumSet.noneOf(DestinationState.class));
    }

    public boolean owned() {
        return this == OWNED || this == RESUMED || this == OWNED_NOT_RUNNING;
    }

    public boolean canGo(DestinationState to) {
        return NEXT.get(this).contains(to);
    }

    /** Returns {@code to}, or throws naming the migration, the VM and both states. */
    public DestinationState go(String migrationId, String vm, DestinationState to) {
        if (!canGo(to)) {
            throw new IllegalStateException("incoming migration " + migrationId + " of vm '" + vm + "': can't go from "
                    + wireName() + " to " + to.wireName());
        }
        return to;
    }

    public String wireName() {
        return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }
}
