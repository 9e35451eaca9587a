package dev.ferry.migration;

import java.util.EnumMap;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The phases of one migration, in the order the source drives them. Each is written to the
 * journal before it acts; the journal never goes backwards (see {@link #canFollow}).
 */
public enum Phase {
    /** Device verdicts and destination checks; no side effects anywhere. */
    CHECK,
    /** The destination creates backends and starts an incoming QEMU. */
    PREPARE,
    /** Device step 1 on the source; the guest runs. */
    PRE_SUSPEND,
    /** QEMU copies RAM while the guest runs, until it pauses the guest before switchover. */
    RAM_COPY,
    /** Device step 2, all devices concurrently; the guest is paused. */
    POST_SUSPEND,
    /** Device step 3: wait for step 2's work, then let QEMU finish. */
    SYNC,
    /** The destination records ownership and resumes the guest: the point of no return. */
    SWITCHOVER,
    /** The source quits its QEMU and releases its backends. */
    CLEANUP,
    /** A failure or a cancel is being undone. */
    ROLLING_BACK,
    /** Final: the VM runs on the destination. */
    COMPLETED,
    /** Final: a dry run found no blocker; nothing was started. */
    CHECKED,
    /** Final: a device or the destination said no at CHECK; nothing was started. */
    REFUSED,
    /** Final: a failure was undone; the VM is where it was. */
    ROLLED_BACK,
    /** Final: something could not be undone or finished; the report says what and where the VM is. */
    FAILED;

    /** Phases that may be journaled after each phase; a final phase has none. */
    private static final Map<Phase, Set<Phase>> NEXT = new EnumMap<>(Phase.class);

    static {
        Set<Phase> undone = EnumSet.of(ROLLING_BACK, ROLLED_BACK, FAILED);
        NEXT.put(CHECK, union(undone, PREPARE, CHECKED, REFUSED));
        // The destination's journal goes from PREPARE straight to SWITCHOVER.
        NEXT.put(PREPARE, union(undone, PRE_SUSPEND, SWITCHOVER));
        NEXT.put(PRE_SUSPEND, union(undone, RAM_COPY));
        NEXT.put(RAM_COPY, union(undone, POST_SUSPEND));
        NEXT.put(POST_SUSPEND, union(undone, SYNC));
        NEXT.put(SYNC, union(undone, SWITCHOVER));
        // Past switchover the source never rolls back; a destination that said "not taken" ends it rolled back.
        NEXT.put(SWITCHOVER, EnumSet.of(CLEANUP, COMPLETED, ROLLED_BACK, FAILED));
        NEXT.put(CLEANUP, EnumSet.of(COMPLETED, FAILED));
        NEXT.put(ROLLING_BACK, EnumSet.of(ROLLED_BACK, FAILED));
        for (Phase p : List.of(COMPLETED, CHECKED, REFUSED, ROLLED_BACK, FAILED)) {
            NEXT.put(p, EnumSet.noneOf(Phase.class));
        }
    }

    private static Set<Phase> union(Set<Phase> base, Phase... more) {
        Set<Phase> s = EnumSet.copyOf(base);
        s.addAll(List.of(more));
        return s;
    }

    public boolean isFinal() {
        return this == COMPLETED || this == CHECKED || this == REFUSED || this == ROLLED_BACK || this == FAILED;
    }

    /** Whether the VM now belongs to the destination (the source must never resume it). */
    public boolean pastPointOfNoReturn() {
        return this == SWITCHOVER || this == CLEANUP || this == COMPLETED;
    }

    /** Whether {@code next} may be journaled after this phase. */
    public boolean canFollow(Phase next) {
        return NEXT.get(this).contains(next);
    }

    /** Throws, naming the migration, the VM and both phases, unless {@code next} may follow this phase. */
    public void checkTransition(String migrationId, String vm, Phase next) {
        if (!canFollow(next)) {
            throw new IllegalStateException("migration " + migrationId + " of vm '" + vm
                    + "': protocol going backwards or skipping " + wireName() + " => " + next.wireName());
        }
    }

    public static Phase fromWireName(String s) {
        for (Phase p : values()) {
            if (p.wireName().equals(s)) {
                return p;
            }
        }
        throw new IllegalArgumentException("Invalid migration phase: '" + s + "'");
    }

    public String wireName() {
        return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }
}
