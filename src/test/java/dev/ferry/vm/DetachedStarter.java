package dev.ferry.vm;

import dev.ferry.proc.ProcessRunner;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;

/**
 * Starts one VM from a spec file through {@link QemuHost} and then waits to be killed, so that a
 * test can show that a VM outlives the process that started it. Prints {@code started PID} once
 * QMP answers. Run in its own JVM: {@code DetachedStarter RUN_ROOT SPEC_FILE}.
 */
public final class DetachedStarter {
    private DetachedStarter() {}

    public static void main(String[] args) throws Exception {
        if (args.length != 2) {
            System.err.println("usage: DetachedStarter RUN_ROOT SPEC_FILE");
            System.exit(2);
        }
        Path specFile = Path.of(args[1]).toAbsolutePath();
        VmSpec spec = VmSpecParser.parse(Files.readString(specFile), specFile.getParent());
        VmHandle vm = new QemuHost(Path.of(args[0]), Path.of("/usr/bin/qemu-system-x86_64"), Path.of("/usr/bin/swtpm"),
                new ProcessRunner()).start(spec);
        System.out.println("started " + vm.pid());
        System.out.flush();
        // Holds the handle (and its QMP connection) until the JVM is killed, as a crashed agent would.
        new CountDownLatch(1).await();
    }
}
