/* truth-probe: runs as the last step of viommu-truth's guest init (docs/ground-truth.md) and prints
 * what the guest kernel did, one JSON object per line between the markers VIOMMU-TRUTH-BEGIN and
 * VIOMMU-TRUTH-END on stdout (the serial console):
 *
 *   {"kind":"pci",...}     per PCI function: IDs, bound driver, IOMMU group
 *   {"kind":"group",...}   per IOMMU group: its type (default domain) and reserved_regions
 *   {"kind":"virtio",...}  per virtio device: device ID, parent PCI function, driver, negotiated features
 *   {"kind":"vfio",...}    per function whose VENDOR:DEVICE ID is given on the command line (the
 *                          stand-ins for hostdevs): the VFIO user's steps and their errno
 *   {"kind":"kmsg",...}    the kernel log, one record per line, read from /dev/kmsg at the end
 *
 * The VFIO steps are those of a type1 user (Documentation/driver-api/vfio.rst, "VFIO Usage Example"):
 * bind vfio-pci through driver_override and drivers_probe (what driverctl does), open the group, check it
 * is viable, open /dev/vfio/vfio, VFIO_GROUP_SET_CONTAINER, VFIO_SET_IOMMU(VFIO_TYPE1v2_IOMMU),
 * VFIO_GROUP_GET_DEVICE_FD. The first failing step ends the device's run.
 *
 * Built static (it runs in an initramfs with no libc of its own) from this one file. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/vfio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

static void put_json_string(const char *s)
{
    putchar('"');
    for (; *s; ++s) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            printf("\\%c", c);
        else if (c < 0x20 || c >= 0x7f)
            printf("\\u%04x", c);
        else
            putchar(c);
    }
    putchar('"');
}

/* The file's first line without its newline; "" when it cannot be read. */
static void read_line(const char *path, char *out, size_t size)
{
    out[0] = '\0';
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    if (fgets(out, (int)size, f))
        out[strcspn(out, "\n")] = '\0';
    fclose(f);
}

/* Copies src into out, cut to fit. */
static void copy_text(char *out, size_t size, const char *src)
{
    size_t n = strlen(src);
    if (n >= size)
        n = size - 1;
    memcpy(out, src, n);
    out[n] = '\0';
}

/* The last component of a symbolic link's target ("vfio-pci" for .../drivers/vfio-pci); "" for none. */
static void link_name(const char *path, char *out, size_t size)
{
    char target[512];
    ssize_t n = readlink(path, target, sizeof target - 1);
    out[0] = '\0';
    if (n <= 0)
        return;
    target[n] = '\0';
    const char *slash = strrchr(target, '/');
    copy_text(out, size, slash ? slash + 1 : target);
}

/* The first line of dir/name/attr ("/sys/bus/pci/devices", "0000:00:03.0", "vendor"). */
static void read_attr(const char *dir, const char *name, const char *attr, char *out, size_t size)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s/%s", dir, name, attr);
    read_line(path, out, size);
}

/* The name dir/name/attr links to ("driver" -> "vfio-pci"). */
static void link_attr(const char *dir, const char *name, const char *attr, char *out, size_t size)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s/%s", dir, name, attr);
    link_name(path, out, size);
}

static const char *const kPci = "/sys/bus/pci/devices";

/* Writes text to a sysfs attribute; 0 or the errno of the failing step. */
static int write_attr(const char *path, const char *text)
{
    int fd = open(path, O_WRONLY);
    if (fd < 0)
        return errno;
    int err = write(fd, text, strlen(text)) < 0 ? errno : 0;
    close(fd);
    return err;
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
    return strcmp((*a)->d_name, (*b)->d_name);
}

static void pci_functions(void)
{
    struct dirent **names;
    int n = scandir("/sys/bus/pci/devices", &names, NULL, by_name);
    for (int i = 0; i < n; ++i) {
        const char *bdf = names[i]->d_name;
        if (bdf[0] != '.') {
            char vendor[32], device[32], cls[32], driver[128], group[32];
            read_attr(kPci, bdf, "vendor", vendor, sizeof vendor);
            read_attr(kPci, bdf, "device", device, sizeof device);
            read_attr(kPci, bdf, "class", cls, sizeof cls);
            link_attr(kPci, bdf, "driver", driver, sizeof driver);
            link_attr(kPci, bdf, "iommu_group", group, sizeof group);
            printf("{\"kind\":\"pci\",\"bdf\":");
            put_json_string(bdf);
            printf(",\"vendor\":");
            put_json_string(vendor);
            printf(",\"device\":");
            put_json_string(device);
            printf(",\"class\":");
            put_json_string(cls);
            printf(",\"driver\":");
            put_json_string(driver);
            printf(",\"group\":%s}\n", group[0] ? group : "null");
        }
        free(names[i]);
    }
    if (n >= 0)
        free(names);
}

static void iommu_groups(void)
{
    struct dirent **names;
    int n = scandir("/sys/kernel/iommu_groups", &names, NULL, by_name);
    for (int i = 0; i < n; ++i) {
        const char *group = names[i]->d_name;
        if (group[0] != '.') {
            char path[512], type[64], line[256];
            snprintf(path, sizeof path, "/sys/kernel/iommu_groups/%s/type", group);
            read_line(path, type, sizeof type);
            printf("{\"kind\":\"group\",\"group\":%s,\"type\":", group);
            put_json_string(type);
            printf(",\"reserved_regions\":[");
            snprintf(path, sizeof path, "/sys/kernel/iommu_groups/%s/reserved_regions", group);
            FILE *f = fopen(path, "r");
            for (int first = 1; f && fgets(line, sizeof line, f); first = 0) {
                line[strcspn(line, "\n")] = '\0';
                if (!first)
                    putchar(',');
                put_json_string(line);
            }
            if (f)
                fclose(f);
            printf("]}\n");
        }
        free(names[i]);
    }
    if (n >= 0)
        free(names);
}

static void virtio_devices(void)
{
    struct dirent **names;
    int n = scandir("/sys/bus/virtio/devices", &names, NULL, by_name);
    for (int i = 0; i < n; ++i) {
        const char *name = names[i]->d_name;
        if (name[0] != '.') {
            const char *virtio = "/sys/bus/virtio/devices";
            char path[512], id[32], features[160], driver[128], parent[512], pci[64];
            read_attr(virtio, name, "device", id, sizeof id);
            read_attr(virtio, name, "features", features, sizeof features);
            link_attr(virtio, name, "driver", driver, sizeof driver);
            /* The device's sysfs directory sits inside its virtio-pci function's. */
            snprintf(path, sizeof path, "/sys/bus/virtio/devices/%s/..", name);
            pci[0] = '\0';
            if (realpath(path, parent)) {
                const char *slash = strrchr(parent, '/');
                copy_text(pci, sizeof pci, slash ? slash + 1 : parent);
            }
            printf("{\"kind\":\"virtio\",\"name\":");
            put_json_string(name);
            printf(",\"device_id\":");
            put_json_string(id);
            printf(",\"pci\":");
            put_json_string(pci);
            printf(",\"driver\":");
            put_json_string(driver);
            printf(",\"features\":");
            put_json_string(features);
            printf("}\n");
        }
        free(names[i]);
    }
    if (n >= 0)
        free(names);
}

static void step(const char *name, int err, int *first)
{
    printf("%s{\"step\":", *first ? "" : ",");
    put_json_string(name);
    printf(",\"errno\":%d}", err);
    *first = 0;
}

/* The VFIO user's steps for one function; stops at the first that fails. */
static void vfio_user(const char *bdf)
{
    char path[512], driver[128] = "", group[32] = "";
    int first = 1, err, group_fd = -1, container = -1, device = -1;
    int viable = -1;

    printf("{\"kind\":\"vfio\",\"bdf\":");
    put_json_string(bdf);
    printf(",\"steps\":[");

    /* driverctl set-override: unbind the current driver, then let only vfio-pci match. */
    link_attr(kPci, bdf, "driver", driver, sizeof driver);
    if (driver[0] && strcmp(driver, "vfio-pci") != 0) {
        snprintf(path, sizeof path, "/sys/bus/pci/devices/%s/driver/unbind", bdf);
        step("unbind", write_attr(path, bdf), &first);
    }
    snprintf(path, sizeof path, "/sys/bus/pci/devices/%s/driver_override", bdf);
    err = write_attr(path, "vfio-pci");
    step("driver_override", err, &first);
    if (err)
        goto out;
    err = write_attr("/sys/bus/pci/drivers_probe", bdf);
    step("drivers_probe", err, &first);
    link_attr(kPci, bdf, "driver", driver, sizeof driver);
    link_attr(kPci, bdf, "iommu_group", group, sizeof group);
    if (err || strcmp(driver, "vfio-pci") != 0)
        goto out;

    snprintf(path, sizeof path, "/dev/vfio/%s", group);
    group_fd = open(path, O_RDWR);
    step("open group", group_fd < 0 ? errno : 0, &first);
    if (group_fd < 0)
        goto out;
    struct vfio_group_status status = {.argsz = sizeof status};
    err = ioctl(group_fd, VFIO_GROUP_GET_STATUS, &status) < 0 ? errno : 0;
    step("VFIO_GROUP_GET_STATUS", err, &first);
    if (err)
        goto out;
    viable = (status.flags & VFIO_GROUP_FLAGS_VIABLE) != 0;

    container = open("/dev/vfio/vfio", O_RDWR);
    step("open /dev/vfio/vfio", container < 0 ? errno : 0, &first);
    if (container < 0)
        goto out;
    err = ioctl(group_fd, VFIO_GROUP_SET_CONTAINER, &container) < 0 ? errno : 0;
    step("VFIO_GROUP_SET_CONTAINER", err, &first);
    if (err)
        goto out;
    err = ioctl(container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU) < 0 ? errno : 0;
    step("VFIO_SET_IOMMU", err, &first);
    if (err)
        goto out;
    device = ioctl(group_fd, VFIO_GROUP_GET_DEVICE_FD, bdf);
    step("VFIO_GROUP_GET_DEVICE_FD", device < 0 ? errno : 0, &first);

out:
    printf("],\"driver\":");
    put_json_string(driver);
    printf(",\"group\":%s,\"viable\":%s}\n", group[0] ? group : "null",
           viable < 0 ? "null" : viable ? "true" : "false");
    if (device >= 0)
        close(device);
    if (container >= 0)
        close(container);
    if (group_fd >= 0)
        close(group_fd);
}

/* Every record of the kernel log so far, its text without the "prio,seq,time,flags;" prefix. */
static void kernel_log(void)
{
    int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK);
    char record[8192];
    if (fd < 0)
        return;
    for (;;) {
        ssize_t n = read(fd, record, sizeof record - 1);
        if (n < 0 && errno == EPIPE)
            continue; /* overwritten records: go on with the next one */
        if (n <= 0)
            break;
        record[n] = '\0';
        char *text = strchr(record, ';');
        if (!text)
            continue;
        ++text;
        text[strcspn(text, "\n")] = '\0';
        char *comma = strchr(record, ',');
        unsigned long long usec = 0;
        if (comma)
            sscanf(comma + 1, "%*[0-9],%llu", &usec);
        printf("{\"kind\":\"kmsg\",\"usec\":%llu,\"text\":", usec);
        put_json_string(text);
        printf("}\n");
    }
    close(fd);
}

/* Runs the VFIO user's steps on every function whose "0xVVVV:0xDDDD" is among the arguments ("1234:11e8"). */
static void vfio_users(int argc, char **argv)
{
    struct dirent **names;
    int n = scandir("/sys/bus/pci/devices", &names, NULL, by_name);
    for (int i = 0; i < n; ++i) {
        const char *bdf = names[i]->d_name;
        char vendor[32], device[32], id[80];
        read_attr(kPci, bdf, "vendor", vendor, sizeof vendor);
        read_attr(kPci, bdf, "device", device, sizeof device);
        snprintf(id, sizeof id, "%s:%s", vendor[0] ? vendor + 2 : "", device[0] ? device + 2 : "");
        for (int a = 1; a < argc; ++a)
            if (bdf[0] != '.' && strcmp(argv[a], id) == 0)
                vfio_user(bdf);
        free(names[i]);
    }
    if (n >= 0)
        free(names);
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    printf("VIOMMU-TRUTH-BEGIN\n");
    /* The VFIO steps first: what they change (the driver bound, a group's domain) is what we report. */
    vfio_users(argc, argv);
    pci_functions();
    iommu_groups();
    virtio_devices();
    kernel_log();
    printf("VIOMMU-TRUTH-END\n");
    return 0;
}
