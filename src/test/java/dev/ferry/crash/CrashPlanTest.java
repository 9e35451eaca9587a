package dev.ferry.crash;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.EnumMap;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

class CrashPlanTest {

    @Test
    void from_sameSeed_givesTheSamePlan() {
        for (long seed : new Random(1).longs(100).toArray()) {
            assertThat(CrashPlan.from(seed)).isEqualTo(CrashPlan.from(seed));
        }
    }

    @Test
    void from_manySeeds_picksEveryVictimAboutEquallyAndFractionsAcrossTheWholeMigration() {
        Map<Victim, Integer> victims = new EnumMap<>(Victim.class);
        int[] tenths = new int[10];
        Random seeds = new Random(42);
        int n = 40_000;
        for (int i = 0; i < n; i++) {
            CrashPlan p = CrashPlan.from(seeds.nextLong());
            victims.merge(p.victim(), 1, Integer::sum);
            assertThat(p.fraction()).isGreaterThanOrEqualTo(0.0).isLessThan(1.0);
            tenths[(int) (p.fraction() * 10)]++;
        }
        assertThat(victims.keySet()).containsExactly(Victim.values());
        victims.values().forEach(count -> assertThat(count).isBetween(n / 4 - n / 40, n / 4 + n / 40));
        for (int t : tenths) {
            assertThat(t).isBetween(n / 10 - n / 100, n / 10 + n / 100);
        }
    }

    @Test
    void momentMs_isTheFractionOfTheDuration() {
        CrashPlan p = new CrashPlan(7, Victim.QEMU, 0.25, true);
        assertThat(p.momentMs(4000)).isEqualTo(1000);
        assertThat(new CrashPlan(7, Victim.QEMU, 0.0, true).momentMs(4000)).isZero();
    }
}
