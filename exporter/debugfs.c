// SPDX-License-Identifier: GPL-2.0
/* /sys/kernel/debug/cohbuf: the live buffers, for users and leak checks. */
#include <linux/debugfs.h>
#include <linux/seq_file.h>

#include "cohbuf_internal.h"

/* One of the device's counters, read under the lock that guards both. */
static u64 cohbuf_live_count(struct cohbuf_device *cdev, bool bytes)
{
	u64 val;

	mutex_lock(&cdev->lock);
	val = bytes ? cdev->total_bytes : cdev->nr_buffers;
	mutex_unlock(&cdev->lock);
	return val;
}

static int cohbuf_live_buffers_show(struct seq_file *m, void *unused)
{
	seq_printf(m, "%llu\n", cohbuf_live_count(m->private, false));
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(cohbuf_live_buffers);

static int cohbuf_live_bytes_show(struct seq_file *m, void *unused)
{
	seq_printf(m, "%llu\n", cohbuf_live_count(m->private, true));
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(cohbuf_live_bytes);

static void cohbuf_buffer_show(struct seq_file *m, struct cohbuf_buffer *buf)
{
	unsigned int nr_attachments;

	mutex_lock(&buf->lock);
	nr_attachments = buf->nr_attachments;
	mutex_unlock(&buf->lock);

	seq_printf(m, "%lu\t%zu\t%u\t%d\t%s\t%u\t%d\n", buf->ino, buf->size,
		   buf->nr_chunks, buf->pid, buf->comm, nr_attachments,
		   atomic_read(&buf->nr_mappings));
}

static int cohbuf_buffers_show(struct seq_file *m, void *unused)
{
	struct cohbuf_device *cdev = m->private;
	struct cohbuf_buffer *buf;

	seq_puts(m, "ino\tsize\tchunks\tpid\tcomm\tattachments\tmappings\n");
	mutex_lock(&cdev->lock);
	list_for_each_entry(buf, &cdev->buffers, node)
		cohbuf_buffer_show(m, buf);
	mutex_unlock(&cdev->lock);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(cohbuf_buffers);

static int cohbuf_live_fences_show(struct seq_file *m, void *unused)
{
	seq_printf(m, "%u\n", cohbuf_fences_live());
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(cohbuf_live_fences);

static int cohbuf_fences_list_show(struct seq_file *m, void *unused)
{
	cohbuf_fences_show(m);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(cohbuf_fences_list);

/* debugfs is optional, and its API takes the error pointers it returns. */
void cohbuf_debugfs_init(struct cohbuf_device *cdev)
{
	cdev->debugfs = debugfs_create_dir("cohbuf", NULL);
	debugfs_create_file("live_buffers", 0444, cdev->debugfs, cdev,
			    &cohbuf_live_buffers_fops);
	debugfs_create_file("live_bytes", 0444, cdev->debugfs, cdev,
			    &cohbuf_live_bytes_fops);
	debugfs_create_file("buffers", 0444, cdev->debugfs, cdev,
			    &cohbuf_buffers_fops);
	debugfs_create_file("live_fences", 0444, cdev->debugfs, NULL,
			    &cohbuf_live_fences_fops);
	debugfs_create_file("fences", 0444, cdev->debugfs, NULL,
			    &cohbuf_fences_list_fops);
}

void cohbuf_debugfs_exit(struct cohbuf_device *cdev)
{
	debugfs_remove_recursive(cdev->debugfs);
}
