package dev.ferry.guest;

import java.util.List;

/**
 * What the test guest's data disk holds.
 *
 * @param highestContiguous the highest N such that records 1..N are all present and intact; 0 for a blank disk
 * @param recordsFound      how many intact records the disk holds
 * @param gaps              sequence numbers below the highest record found (intact or not) whose block is blank
 * @param corrupt           sequence numbers whose block holds something other than its intact record
 */
public record DiskReport(long highestContiguous, long recordsFound, List<Long> gaps, List<Long> corrupt) {
    public DiskReport {
        gaps = List.copyOf(gaps);
        corrupt = List.copyOf(corrupt);
    }

    /** No gap and no corrupt record: every record up to the highest is intact. */
    public boolean clean() {
        return gaps.isEmpty() && corrupt.isEmpty();
    }
}
