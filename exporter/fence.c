// SPDX-License-Identifier: GPL-2.0
/*
 * cohbuf fences: dma-fences that user space creates on any dma-buf and
 * signals itself (COHBUF_IOCTL_FENCE_ATTACH and _SIGNAL, uapi/cohbuf.h).
 *
 * Each fence is signalled exactly once, by the first of: SIGNAL from the
 * open file that created it, its timeout (a delayed work), or the release
 * of that file. The first takes it off the lists under cohbuf_fence_mutex,
 * which makes it the one that signals; the others find it off the lists
 * (EALREADY). So every listed fence is unsignalled, and an unlisted one
 * is signalled, or about to be by the task that took it off.
 *
 * Every path that takes cohbuf_fence_mutex runs in process context, and
 * none signals under it: a fence's own lock (its dma_fence lock, taken
 * with interrupts off by the core) is never nested in it. The buffer's
 * dma_resv is taken only in ATTACH, with neither held. Nothing is
 * allocated after a fence has been published, so the signalling paths
 * (marked with dma_fence_begin_signalling()) never allocate.
 */
#include <linux/dma-buf.h>
#include <linux/dma-fence.h>
#include <linux/dma-resv.h>
#include <linux/err.h>
#include <linux/file.h>
#include <linux/jiffies.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/mutex.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/sync_file.h>
#include <linux/uaccess.h>
#include <linux/workqueue.h>

#include <cohbuf.h>

#include "cohbuf_internal.h"
#include "cohbuf_compat.h"

static int cohbuf_fence_timeout_set(const char *val,
				    const struct kernel_param *kp)
{
	return param_set_uint_minmax(val, kp, 1, COHBUF_FENCE_TIMEOUT_MAX_MS);
}

static const struct kernel_param_ops cohbuf_fence_timeout_ops = {
	.set = cohbuf_fence_timeout_set,
	.get = param_get_uint,
};

static unsigned int cohbuf_fence_timeout_ms = 10000;
module_param_cb(fence_timeout_ms, &cohbuf_fence_timeout_ops,
		&cohbuf_fence_timeout_ms, 0644);
MODULE_PARM_DESC(fence_timeout_ms,
		 "A fence signals with -ETIMEDOUT after this many ms unless its ATTACH gave a timeout (default 10000, 1 to 60000)");

static unsigned int cohbuf_max_fences_per_file = 1024;
module_param_named(max_fences_per_file, cohbuf_max_fences_per_file, uint,
		   0644);
MODULE_PARM_DESC(max_fences_per_file,
		 "Unsignalled fences one open file of /dev/cohbuf may have; beyond, ATTACH fails with ENOSPC (default 1024)");

static unsigned int cohbuf_max_fences = 16384;
module_param_named(max_fences, cohbuf_max_fences, uint, 0644);
MODULE_PARM_DESC(max_fences,
		 "Unsignalled fences of all files together; beyond, ATTACH fails with ENOSPC (default 16384)");

/* The lists and counters of unsignalled fences: all of them, and per file. */
static DEFINE_MUTEX(cohbuf_fence_mutex);
static LIST_HEAD(cohbuf_fences);	/* under cohbuf_fence_mutex */
static unsigned int cohbuf_nr_fences;	/* under cohbuf_fence_mutex */

/*
 * Runs the timeouts, on any CPU (7.x wants WQ_UNBOUND or WQ_PERCPU said);
 * it may have to run while memory is short.
 */
static struct workqueue_struct *cohbuf_fence_wq;

/*
 * One fence, on a timeline (fence context) of its own. The fields above
 * lock are constant once the fence is published.
 */
struct cohbuf_fence {
	struct dma_fence base;
	unsigned long ino;	/* st_ino of the dma-buf, 0 for none */
	char exp_name[32];	/* its exporter, "-" for none */
	u32 flags;		/* COHBUF_FENCE_* */
	unsigned int timeout_ms;
	unsigned long created;	/* jiffies */
	pid_t pid;		/* the creating thread group */
	char comm[TASK_COMM_LEN];

	spinlock_t lock;	/* the dma_fence's lock */
	/* Under cohbuf_fence_mutex, while the fence is listed: */
	struct cohbuf_file *owner;
	struct list_head node;		/* in cohbuf_fences */
	struct list_head file_node;	/* in owner->fences */
	/* Holds a reference on the fence while it is queued. */
	struct delayed_work timeout;
};

static struct cohbuf_fence *to_cohbuf_fence(struct dma_fence *fence)
{
	return container_of(fence, struct cohbuf_fence, base);
}

static const char *cohbuf_fence_driver_name(struct dma_fence *fence)
{
	return "cohbuf";
}

static const char *cohbuf_fence_timeline_name(struct dma_fence *fence)
{
	return "cohbuf-fence";
}

/*
 * The core reads the ops (in this module) until the fence is freed, and a
 * sync_file may outlive every open file of /dev/cohbuf: each fence pins the
 * module, and this is the last of the module's code a fence runs.
 */
static void cohbuf_fence_release(struct dma_fence *fence)
{
	kfree_rcu(to_cohbuf_fence(fence), base.rcu);
	module_put(THIS_MODULE);
}

static const struct dma_fence_ops cohbuf_fence_ops = {
	.get_driver_name = cohbuf_fence_driver_name,
	.get_timeline_name = cohbuf_fence_timeline_name,
	.release = cohbuf_fence_release,
};

/*
 * Takes @cf off the lists, which makes the caller the one that signals it,
 * unless it is off them already (-EALREADY) or @owner is set and did not
 * create it (-EPERM).
 */
static int cohbuf_fence_unlist(struct cohbuf_fence *cf,
			       struct cohbuf_file *owner)
{
	int ret = 0;

	mutex_lock(&cohbuf_fence_mutex);
	if (list_empty(&cf->node)) {
		ret = -EALREADY;
	} else if (owner && cf->owner != owner) {
		ret = -EPERM;
	} else {
		list_del_init(&cf->node);
		list_del_init(&cf->file_node);
		cf->owner->nr_fences--;
		cohbuf_nr_fences--;
	}
	mutex_unlock(&cohbuf_fence_mutex);
	return ret;
}

/*
 * Signals @cf with @error unless it has signalled already (-EALREADY) or
 * @owner is set and did not create it (-EPERM). The caller holds a
 * reference on @cf.
 */
static int cohbuf_fence_complete(struct cohbuf_fence *cf,
				 struct cohbuf_file *owner, int error)
{
	bool cookie;
	int ret;

	ret = cohbuf_fence_unlist(cf, owner);
	if (ret)
		return ret;
	cookie = dma_fence_begin_signalling();
	if (error)
		dma_fence_set_error(&cf->base, error);
	dma_fence_signal(&cf->base);
	dma_fence_end_signalling(cookie);

	/* A queued timeout holds a reference; the lists held another. */
	if (cancel_delayed_work(&cf->timeout))
		dma_fence_put(&cf->base);
	dma_fence_put(&cf->base);
	return 0;
}

static void cohbuf_fence_timeout(struct work_struct *work)
{
	struct cohbuf_fence *cf =
		container_of(to_delayed_work(work), struct cohbuf_fence, timeout);

	cohbuf_fence_complete(cf, NULL, -ETIMEDOUT);
	dma_fence_put(&cf->base);
}

static struct cohbuf_fence *cohbuf_fence_create(const struct cohbuf_fence_attach *arg,
						struct dma_buf *dmabuf)
{
	struct cohbuf_fence *cf;

	cf = kzalloc(sizeof(*cf), GFP_KERNEL_ACCOUNT);
	if (!cf)
		return NULL;
	spin_lock_init(&cf->lock);
	dma_fence_init(&cf->base, &cohbuf_fence_ops, &cf->lock,
		       dma_fence_context_alloc(1), 1);
	/* Released in cohbuf_fence_release(), however far the fence got. */
	__module_get(THIS_MODULE);

	cf->ino = dmabuf ? file_inode(dmabuf->file)->i_ino : 0;
	strscpy(cf->exp_name, dmabuf ? dmabuf->exp_name : "-",
		sizeof(cf->exp_name));
	cf->flags = arg->flags;
	cf->timeout_ms = arg->timeout_ms ?: READ_ONCE(cohbuf_fence_timeout_ms);
	cf->created = jiffies;
	cf->pid = task_tgid_vnr(current);
	get_task_comm(cf->comm, current);
	INIT_LIST_HEAD(&cf->node);
	INIT_LIST_HEAD(&cf->file_node);
	INIT_DELAYED_WORK(&cf->timeout, cohbuf_fence_timeout);
	return cf;
}

/* Lists @cf as @owner's, within the limits; the lists hold a reference. */
static int cohbuf_fence_publish(struct cohbuf_fence *cf,
				struct cohbuf_file *owner)
{
	int ret = 0;

	mutex_lock(&cohbuf_fence_mutex);
	if (owner->nr_fences >= READ_ONCE(cohbuf_max_fences_per_file) ||
	    cohbuf_nr_fences >= READ_ONCE(cohbuf_max_fences)) {
		ret = -ENOSPC;
	} else {
		cf->owner = owner;
		list_add_tail(&cf->node, &cohbuf_fences);
		list_add_tail(&cf->file_node, &owner->fences);
		owner->nr_fences++;
		cohbuf_nr_fences++;
		dma_fence_get(&cf->base);
	}
	mutex_unlock(&cohbuf_fence_mutex);
	return ret;
}

/* The reservation lock as the core documents it: reserve, then add. */
static int cohbuf_fence_add_to_resv(struct cohbuf_fence *cf,
				    struct dma_buf *dmabuf)
{
	enum dma_resv_usage usage = cf->flags & COHBUF_FENCE_WRITE ?
				    DMA_RESV_USAGE_WRITE : DMA_RESV_USAGE_READ;
	int ret;

	ret = dma_resv_lock_interruptible(dmabuf->resv, NULL);
	if (ret)
		return ret;
	ret = dma_resv_reserve_fences(dmabuf->resv, 1);
	if (!ret)
		dma_resv_add_fence(dmabuf->resv, &cf->base, usage);
	dma_resv_unlock(dmabuf->resv);
	return ret;
}

static int cohbuf_fence_attach_check(const struct cohbuf_fence_attach *arg)
{
	if (arg->flags & ~COHBUF_FENCE_VALID_FLAGS)
		return -EINVAL;
	if (memchr_inv(arg->reserved, 0, sizeof(arg->reserved)))
		return -EINVAL;
	if (arg->timeout_ms > COHBUF_FENCE_TIMEOUT_MAX_MS)
		return -EINVAL;
	return 0;
}

/*
 * Creates the fence, its sync_file and its place in @dmabuf's reservation
 * object (if any), and starts its timeout. On failure nothing is left.
 */
static struct sync_file *cohbuf_fence_new(struct cohbuf_file *owner,
					  const struct cohbuf_fence_attach *arg,
					  struct dma_buf *dmabuf)
{
	struct sync_file *sync_file;
	struct cohbuf_fence *cf;
	int ret;

	cf = cohbuf_fence_create(arg, dmabuf);
	if (!cf)
		return ERR_PTR(-ENOMEM);
	sync_file = sync_file_create(&cf->base);
	if (!sync_file) {
		ret = -ENOMEM;
		goto put_fence;
	}
	ret = cohbuf_fence_publish(cf, owner);
	if (ret)
		goto put_sync_file;
	/*
	 * The timeout is queued before the fence is in the reservation
	 * object, from which another thread of the owner could export it and
	 * signal it at once: whoever signals it finds the work queued and
	 * cancels it, so no work outlives the signal.
	 */
	dma_fence_get(&cf->base);
	queue_delayed_work(cohbuf_fence_wq, &cf->timeout,
			   msecs_to_jiffies(cf->timeout_ms));
	if (dmabuf) {
		ret = cohbuf_fence_add_to_resv(cf, dmabuf);
		if (ret)
			goto unpublish;
	}
	/* The sync_file, the lists and the timeout hold their own. */
	dma_fence_put(&cf->base);
	return sync_file;

unpublish:
	/* Nobody has seen the fence yet; it signals and leaves the lists. */
	cohbuf_fence_complete(cf, NULL, ret);
put_sync_file:
	fput(sync_file->file);
put_fence:
	dma_fence_put(&cf->base);
	return ERR_PTR(ret);
}

static struct dma_buf *cohbuf_fence_dmabuf_get(int fd)
{
	if (fd == -1)
		return NULL;
	/* EBADF for a closed fd, EINVAL for a file that is not a dma-buf. */
	return dma_buf_get(fd);
}

long cohbuf_ioctl_fence_attach(struct cohbuf_file *owner,
			       struct cohbuf_fence_attach __user *uarg)
{
	struct cohbuf_fence_attach arg;
	struct sync_file *sync_file;
	struct dma_buf *dmabuf;
	int fd, ret;

	if (copy_from_user(&arg, uarg, sizeof(arg)))
		return -EFAULT;
	ret = cohbuf_fence_attach_check(&arg);
	if (ret)
		return ret;
	dmabuf = cohbuf_fence_dmabuf_get(arg.dmabuf_fd);
	if (IS_ERR(dmabuf))
		return PTR_ERR(dmabuf);

	fd = get_unused_fd_flags(O_CLOEXEC);
	if (fd < 0) {
		ret = fd;
		goto put_dmabuf;
	}
	/* Reported before the fence exists, so that no failure follows it. */
	if (put_user(fd, &uarg->fence_fd)) {
		ret = -EFAULT;
		goto put_fd;
	}
	sync_file = cohbuf_fence_new(owner, &arg, dmabuf);
	if (IS_ERR(sync_file)) {
		ret = PTR_ERR(sync_file);
		goto put_fd;
	}
	fd_install(fd, sync_file->file);
	if (dmabuf)
		dma_buf_put(dmabuf);
	return 0;

put_fd:
	put_unused_fd(fd);
put_dmabuf:
	if (dmabuf)
		dma_buf_put(dmabuf);
	return ret;
}

/*
 * The one cohbuf fence in sync_file @fd, with a reference. The fd is looked
 * up once; only a failure looks again, to tell a closed fd (EBADF) from a
 * file that is not a sync_file (EINVAL).
 */
static struct cohbuf_fence *cohbuf_fence_get(int fd)
{
	struct dma_fence *fence;
	struct file *file;

	fence = sync_file_get_fence(fd);
	if (!fence) {
		file = fget(fd);
		if (!file)
			return ERR_PTR(-EBADF);
		fput(file);
		return ERR_PTR(-EINVAL);
	}
	if (cohbuf_dma_fence_ops(fence) != &cohbuf_fence_ops) {
		dma_fence_put(fence);
		return ERR_PTR(-EINVAL);
	}
	return to_cohbuf_fence(fence);
}

long cohbuf_ioctl_fence_signal(struct cohbuf_file *owner,
			       struct cohbuf_fence_signal __user *uarg)
{
	struct cohbuf_fence_signal arg;
	struct cohbuf_fence *cf;
	int ret;

	if (copy_from_user(&arg, uarg, sizeof(arg)))
		return -EFAULT;
	if (arg.reserved || arg.error > 0 || arg.error < -MAX_ERRNO)
		return -EINVAL;

	cf = cohbuf_fence_get(arg.fence_fd);
	if (IS_ERR(cf))
		return PTR_ERR(cf);
	ret = cohbuf_fence_complete(cf, owner, arg.error);
	dma_fence_put(&cf->base);
	return ret;
}

/* The open file is going away: its unsignalled fences signal -EPIPE. */
void cohbuf_fence_file_release(struct cohbuf_file *owner)
{
	struct cohbuf_fence *cf;

	for (;;) {
		mutex_lock(&cohbuf_fence_mutex);
		cf = list_first_entry_or_null(&owner->fences,
					      struct cohbuf_fence, file_node);
		if (cf)
			dma_fence_get(&cf->base);
		mutex_unlock(&cohbuf_fence_mutex);
		if (!cf)
			break;
		cohbuf_fence_complete(cf, owner, -EPIPE);
		dma_fence_put(&cf->base);
	}
}

unsigned int cohbuf_fences_live(void)
{
	unsigned int nr;

	mutex_lock(&cohbuf_fence_mutex);
	nr = cohbuf_nr_fences;
	mutex_unlock(&cohbuf_fence_mutex);
	return nr;
}

void cohbuf_fences_show(struct seq_file *m)
{
	struct cohbuf_fence *cf;

	seq_puts(m, "context\tino\texporter\tusage\tage_ms\ttimeout_ms\tpid\tcomm\n");
	mutex_lock(&cohbuf_fence_mutex);
	list_for_each_entry(cf, &cohbuf_fences, node)
		seq_printf(m, "%llu\t%lu\t%s\t%s\t%u\t%u\t%d\t%s\n",
			   cf->base.context, cf->ino, cf->exp_name,
			   cf->flags & COHBUF_FENCE_WRITE ? "write" : "read",
			   jiffies_to_msecs(jiffies - cf->created),
			   cf->timeout_ms, cf->pid, cf->comm);
	mutex_unlock(&cohbuf_fence_mutex);
}

int cohbuf_fence_init(void)
{
	cohbuf_fence_wq = alloc_workqueue("cohbuf_fence", WQ_UNBOUND |
					  WQ_MEM_RECLAIM | WQ_HIGHPRI, 0);
	return cohbuf_fence_wq ? 0 : -ENOMEM;
}

/* Every fence pins the module, but a timeout may still be returning. */
void cohbuf_fence_exit(void)
{
	destroy_workqueue(cohbuf_fence_wq);
}
