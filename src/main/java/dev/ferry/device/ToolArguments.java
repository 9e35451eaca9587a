package dev.ferry.device;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Builds a tool's command line in either dialect. Values are passed as separate argv entries,
 * never through a shell, so names with spaces or shell characters reach the tool verbatim.
 */
public final class ToolArguments {
    /** The environment variable that tells a xen-dialect tool the destination path it fills. */
    public static final String DESTINATION_PATH_ENV = "FERRY_DESTINATION_PATH";

    private ToolArguments() {}

    /**
     * The argv for one call.
     *
     * @param step         the step, or null for a recovery
     * @param lastGoodStep with a recovery: the last step the device completed
     */
    public static List<String> argv(ToolSpec tool, DeviceContext ctx, Step step, Step lastGoodStep) {
        return switch (tool.dialect()) {
            case FERRY -> ferry(tool, ctx, step, lastGoodStep);
            case XEN -> xen(tool, ctx, step, lastGoodStep);
        };
    }

    private static List<String> ferry(ToolSpec tool, DeviceContext ctx, Step step, Step lastGoodStep) {
        List<String> argv = new ArrayList<>(List.of(tool.executable().toString(),
                "--step", step == null ? "recover" : step.toolName(),
                "--device-type", ctx.device().type(),
                "--device-id", ctx.device().id(),
                "--vm", ctx.vmName(),
                "--vm-uuid", ctx.vmUuid(),
                "--mode", ctx.mode().wireName(),
                "--destination", ctx.destination()));
        if (step == null) {
            argv.add("--last-good-step");
            argv.add(lastGoodStep.toolName());
        }
        if (ctx.endpoint() != null) {
            argv.add("--destination-path");
            argv.add(ctx.endpoint());
        }
        return argv;
    }

    /**
     * Variables added to the tool's clean environment. xend's command line has no place for the
     * destination path a disk tool fills, so the xen dialect gets it as {@value #DESTINATION_PATH_ENV}.
     */
    public static Map<String, String> env(ToolSpec tool, DeviceContext ctx) {
        return tool.dialect() == ToolDialect.XEN && ctx.endpoint() != null
                ? Map.of(DESTINATION_PATH_ENV, ctx.endpoint()) : Map.of();
    }

    private static List<String> xen(ToolSpec tool, DeviceContext ctx, Step step, Step lastGoodStep) {
        int n = step == null ? lastGoodStep.xenNumber() : step.xenNumber();
        List<String> argv = new ArrayList<>(List.of(tool.executable().toString(),
                "-type", xenClass(ctx.device()),
                "-step", Integer.toString(n),
                "-host", ctx.destination(),
                "-domname", ctx.vmName()));
        if (step == null) {
            argv.add("-recover");
        }
        return argv;
    }

    /** The xend device class of a Ferry device type. */
    static String xenClass(DeviceRef device) {
        return switch (device.type()) {
            case "disk" -> "vbd";
            case "nic" -> "vif";
            case "tpm" -> "vtpm";
            case "usb" -> "usb";
            case "pci" -> "pci";
            default -> device.variant().isEmpty() ? device.type() : device.variant().toLowerCase(Locale.ROOT);
        };
    }
}
