package dev.ferry.crash;

import java.util.Random;

/**
 * What one run does, all drawn from its seed: the victim, uniformly among the {@link Victim}s, the
 * moment as a fraction of the calibrated migration's duration, uniformly in [0, 1), and for both
 * agents which dies first. The same seed always gives the same plan; the moment in milliseconds is
 * that fraction of the duration the replaying batch calibrates.
 */
record CrashPlan(long seed, Victim victim, double fraction, boolean sourceFirst) {

    static CrashPlan from(long seed) {
        Random r = new Random(seed);
        Victim victim = Victim.values()[r.nextInt(Victim.values().length)];
        double fraction = r.nextDouble();
        boolean sourceFirst = r.nextBoolean();
        return new CrashPlan(seed, victim, fraction, sourceFirst);
    }

    /** The kill's delay after the migration started, for a migration that takes {@code durationMs}. */
    long momentMs(long durationMs) {
        return Math.round(fraction * durationMs);
    }

    @Override
    public String toString() {
        return "seed " + seed + ": " + victim.label + (victim == Victim.BOTH_AGENTS ? (sourceFirst ? ", source first" : ", destination first") : "")
                + String.format(" at %.3f of the migration", fraction);
    }
}
