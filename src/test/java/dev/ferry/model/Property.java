package dev.ferry.model;

/** The properties of {@code model/ferry.pml}: each is one {@code ltl} formula there. */
enum Property {
    NEVER_TWO_RUNNING("never_two_running", false, "never two running copies"),
    SOURCE_NEVER_RESUMES_AFTER_DESTINATION("source_never_resumes_after_destination", false,
            "the source never resumes after the destination resumed"),
    DEVICE_RECOVERED_ONLY_IF_STARTED("device_recovered_only_if_started", false,
            "a device recovered is one that started"),
    EVENTUALLY_ONE_RUNNING_AND_FINAL("eventually_one_running_and_final", true,
            "once faults stop, eventually exactly one running copy, nothing left of the other, and the migration"
                    + " final on both sides");

    private final String ltlName;
    private final boolean liveness;
    private final String words;

    Property(String ltlName, boolean liveness, String words) {
        this.ltlName = ltlName;
        this.liveness = liveness;
        this.words = words;
    }

    String ltlName() {
        return ltlName;
    }

    boolean liveness() {
        return liveness;
    }

    String words() {
        return words;
    }
}
