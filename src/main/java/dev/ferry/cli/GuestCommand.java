package dev.ferry.cli;

import dev.ferry.guest.DiskReport;
import dev.ferry.guest.DiskVerifier;
import dev.ferry.guest.GuestArtifacts;
import dev.ferry.guest.GuestBuildException;
import dev.ferry.guest.GuestKit;
import dev.ferry.guest.GuestSpecs;
import dev.ferry.proc.ProcessRunner;
import dev.ferry.vm.SpecException;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code ferry guest}: builds the test guest, writes a VM spec that boots it, and checks the records it wrote to a disk. */
@Command(name = "guest",
        description = "Build the small Linux test guest, write a VM spec that boots it, and check the records it writes to its disk.",
        mixinStandardHelpOptions = true,
        subcommands = {GuestCommand.Build.class, GuestCommand.WriteSpec.class, GuestCommand.VerifyDisk.class})
public final class GuestCommand {

    @Command(name = "build",
            description = "Build the test guest (kernel and initramfs) into the user cache, or reuse the cached one, "
                    + "and print where it is.",
            mixinStandardHelpOptions = true)
    static final class Build implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Override
        public Integer call() {
            PrintWriter out = spec.commandLine().getOut();
            try {
                GuestArtifacts guest = GuestKit.inUserCache(new ProcessRunner()).build();
                out.println("kernel     " + guest.kernel());
                out.println("initramfs  " + guest.initramfs());
                out.println("version    " + guest.kernelVersion());
                out.println("cmdline    " + guest.kernelCmdline());
                out.flush();
                return 0;
            } catch (GuestBuildException e) {
                spec.commandLine().getErr().println("ferry guest build: " + e.getMessage());
                return 1;
            }
        }
    }

    @Command(name = "spec",
            description = {"Build the test guest (or reuse the cached one) and write DIR/NAME.yaml, a VM spec that boots it "
                    + "with a qcow2 data disk DIR/NAME-data.qcow2 (created unless it exists), a user-mode NIC and an "
                    + "swtpm vTPM (tpm-tis). Prints the spec's path; define it with 'ferry vm define'.",
                    "The data disk is marked shared: both hosts of a migration see the image at the same path, as two "
                            + "agents on one machine do, so QEMU hands the disk over instead of copying it."},
            mixinStandardHelpOptions = true)
    static final class WriteSpec implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Parameters(index = "0", paramLabel = "NAME", description = "the VM's name: a-z, 0-9 and '-'")
        String name;

        @Option(names = "--dir", required = true, paramLabel = "DIR", description = "where the spec and the data disk go; created if needed")
        Path dir;

        @Option(names = "--disk-size", paramLabel = "SIZE", defaultValue = GuestSpecs.DEFAULT_DISK_SIZE,
                description = "size of a new data disk, such as 64M or 1G (default: ${DEFAULT-VALUE})")
        String diskSize;

        @Option(names = "--memory", paramLabel = "MIB", defaultValue = "" + GuestSpecs.DEFAULT_MEMORY_MIB,
                description = "the guest's memory in MiB (default: ${DEFAULT-VALUE})")
        int memoryMiB;

        @Override
        public Integer call() {
            PrintWriter err = spec.commandLine().getErr();
            try {
                GuestSpecs.check(name, diskSize, memoryMiB);
                ProcessRunner runner = new ProcessRunner();
                GuestArtifacts guest = GuestKit.inUserCache(runner).build();
                GuestSpecs.Written written = new GuestSpecs(runner).write(guest, name, dir, diskSize, memoryMiB);
                PrintWriter out = spec.commandLine().getOut();
                out.println(written.spec());
                out.flush();
                return 0;
            } catch (SpecException e) {
                err.println("ferry guest spec: " + e.getMessage());
                return 2;
            } catch (GuestBuildException | IOException e) {
                err.println("ferry guest spec: " + e.getMessage());
                return 1;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                err.println("ferry guest spec: interrupted");
                return 1;
            }
        }
    }

    @Command(name = "verify-disk",
            description = "Check the records the test guest wrote to a raw or qcow2 disk image. "
                    + "Exits 1 when a record is missing below the highest one or is corrupt.",
            mixinStandardHelpOptions = true)
    static final class VerifyDisk implements Callable<Integer> {
        private static final int LISTED = 20;

        @Spec
        CommandSpec spec;

        @Parameters(index = "0", paramLabel = "IMAGE", description = "the disk image (raw or qcow2); the VM must not be running")
        Path image;

        @Override
        public Integer call() {
            PrintWriter out = spec.commandLine().getOut();
            PrintWriter err = spec.commandLine().getErr();
            DiskReport report;
            try {
                report = DiskVerifier.verify(image, new ProcessRunner());
            } catch (IOException e) {
                err.println("ferry guest verify-disk: " + e.getMessage());
                return 2;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                err.println("ferry guest verify-disk: interrupted");
                return 2;
            }
            out.println("highest contiguous record  " + report.highestContiguous());
            out.println("records found              " + report.recordsFound());
            if (!report.gaps().isEmpty()) {
                out.println("missing records            " + summary(report.gaps()));
            }
            if (!report.corrupt().isEmpty()) {
                out.println("corrupt records            " + summary(report.corrupt()));
            }
            out.println(report.clean() ? "clean" : "NOT clean");
            out.flush();
            return report.clean() ? 0 : 1;
        }

        private static String summary(List<Long> seqs) {
            String shown = seqs.stream().limit(LISTED).map(String::valueOf).collect(Collectors.joining(" "));
            return seqs.size() > LISTED ? shown + " ... (" + seqs.size() + " in all)" : shown;
        }
    }
}
