package dev.ferry.crash;

/** What a crash run SIGKILLs; each equally likely. */
enum Victim {
    /** The source agent's JVM; its QEMU, swtpm and tool live on. Restarted at once on the same data directory. */
    SOURCE_AGENT("source agent"),
    /** The destination agent's JVM, the same way. */
    DEST_AGENT("destination agent"),
    /** Both agents' JVMs, one right after the other in an order the seed picks; both restarted. */
    BOTH_AGENTS("both agents"),
    /**
     * The QEMU that does not hold the guest at that moment: before the switchover the destination's
     * incoming QEMU, from the switchover on the source's finished one. Killing the QEMU that holds the
     * guest's only copy is a guest crash, not a migration fault, so a run never does it.
     */
    QEMU("one QEMU");

    final String label;

    Victim(String label) {
        this.label = label;
    }
}
