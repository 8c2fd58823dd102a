// SPDX-License-Identifier: GPL-2.0
/*
 * Asynchronous FILL and CRC32: jobs synchronised the way a device's DMA is
 * (uapi/cohbuf_importer.h, DOC: Asynchronous access).
 *
 * When a job is queued it takes the buffer's fences as its dependencies and
 * puts a fence of its own in the reservation object, both under the
 * reservation lock, so the dependencies never include a later job. It then
 * waits for one dependency at a time through a fence callback, which only
 * requeues the work, as drm_sched does, and runs from the workqueue.
 *
 * The work is the signalling path of the job's fence (marked with
 * dma_fence_begin_signalling()): it allocates nothing and never takes the
 * file's lock, which a synchronous FILL holds while it waits for the fence.
 *
 * Lock order: cohbuf_imp_job.state_lock, then a dependency's fence lock
 * (taken by dma_fence_add_callback() and dma_fence_remove_callback()).
 */
#include <linux/atomic.h>
#include <linux/dma-buf.h>
#include <linux/dma-fence.h>
#include <linux/dma-resv.h>
#include <linux/jiffies.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/uaccess.h>
#include <linux/workqueue.h>

#include <cohbuf_importer.h>

#include "importer.h"

/*
 * Runs the jobs, on any CPU (7.x wants WQ_UNBOUND or WQ_PERCPU said); it
 * signals fences, so it may have to run while memory is short.
 */
static struct workqueue_struct *cohbuf_imp_wq;

/* One job; the fields above work are constant once it is queued. */
struct cohbuf_imp_job {
	struct dma_fence base;
	spinlock_t fence_lock;		/* base's lock */
	struct cohbuf_imp_device *idev;
	struct iosys_map map;		/* the attachment's kernel mapping */
	void *bounce;			/* CRC32 of I/O memory only */
	u64 offset;
	u64 length;
	u32 pattern;
	bool fill;

	/*
	 * Holds a reference on base from the queueing until the job has
	 * completed. Only the work writes error and crc32; crc32 is read
	 * once base has signalled.
	 */
	struct work_struct work;
	int error;
	u32 crc32;

	struct dma_fence_cb cb;		/* on deps[next_dep] while waiting */
	spinlock_t state_lock;
	/* Under state_lock once queued; the work alone changes them. */
	struct dma_fence **deps;
	unsigned int nr_deps;
	unsigned int next_dep;
	bool cancelled;			/* under state_lock */
};

static struct cohbuf_imp_job *to_cohbuf_imp_job(struct dma_fence *fence)
{
	return container_of(fence, struct cohbuf_imp_job, base);
}

static const char *cohbuf_imp_job_driver_name(struct dma_fence *fence)
{
	return "cohbuf_importer";
}

static const char *cohbuf_imp_job_timeline_name(struct dma_fence *fence)
{
	return "cohbuf_importer-job";
}

/*
 * The core reads the ops (in this module) until the fence is freed, which
 * may be after every open file is gone: each fence pins the module, and
 * this is the last of the module's code a fence runs.
 */
static void cohbuf_imp_job_release(struct dma_fence *fence)
{
	kfree_rcu(to_cohbuf_imp_job(fence), base.rcu);
	module_put(THIS_MODULE);
}

static const struct dma_fence_ops cohbuf_imp_job_ops = {
	.get_driver_name = cohbuf_imp_job_driver_name,
	.get_timeline_name = cohbuf_imp_job_timeline_name,
	.release = cohbuf_imp_job_release,
};

/* Under the signalled dependency's lock: only hand over to the work. */
static void cohbuf_imp_job_dep_signalled(struct dma_fence *dep,
					 struct dma_fence_cb *cb)
{
	struct cohbuf_imp_job *job = container_of(cb, struct cohbuf_imp_job, cb);

	queue_work(cohbuf_imp_wq, &job->work);
}

/*
 * Steps over the dependencies that have signalled, keeping the first
 * error. Returns false when a callback on the next one will requeue the
 * work; true when the job may run or is cancelled.
 */
static bool cohbuf_imp_job_deps_done(struct cohbuf_imp_job *job)
{
	bool done = true;
	int status;

	spin_lock(&job->state_lock);
	while (!job->cancelled && job->next_dep < job->nr_deps) {
		struct dma_fence *dep = job->deps[job->next_dep];

		if (!dma_fence_add_callback(dep, &job->cb,
					    cohbuf_imp_job_dep_signalled)) {
			done = false;
			break;
		}
		status = dma_fence_get_status(dep);
		if (status < 0 && !job->error)
			job->error = status;
		job->next_dep++;
	}
	if (done && job->cancelled && !job->error)
		job->error = -ECANCELED;
	spin_unlock(&job->state_lock);
	return done;
}

/*
 * Signals the job's fence and drops what it held but that reference. The
 * dependencies leave under state_lock, so that a late cancel finds none.
 */
static void cohbuf_imp_job_complete(struct cohbuf_imp_job *job)
{
	struct dma_fence **deps;
	unsigned int i, n;

	spin_lock(&job->state_lock);
	deps = job->deps;
	n = job->nr_deps;
	job->deps = NULL;
	job->nr_deps = 0;
	job->next_dep = 0;
	spin_unlock(&job->state_lock);
	for (i = 0; i < n; i++)
		dma_fence_put(deps[i]);
	kfree(deps);
	kfree(job->bounce);
	if (job->error)
		dma_fence_set_error(&job->base, job->error);
	dma_fence_signal(&job->base);
	atomic_dec(&job->idev->nr_jobs);
}

static void cohbuf_imp_job_work(struct work_struct *work)
{
	struct cohbuf_imp_job *job =
		container_of(work, struct cohbuf_imp_job, work);
	bool cookie;

	cookie = dma_fence_begin_signalling();
	if (!cohbuf_imp_job_deps_done(job)) {
		dma_fence_end_signalling(cookie);
		return;
	}
	if (!job->error && job->fill)
		cohbuf_imp_fill(&job->map, job->offset, job->length,
				job->pattern);
	else if (!job->error)
		job->crc32 = cohbuf_imp_crc(&job->map, job->offset,
					    job->length, job->bounce);
	cohbuf_imp_job_complete(job);
	dma_fence_end_signalling(cookie);
	dma_fence_put(&job->base);
}

static struct cohbuf_imp_job *
cohbuf_imp_job_create(struct cohbuf_imp_device *idev,
		      const struct cohbuf_imp_attachment *a,
		      const struct cohbuf_imp_access *arg, bool fill)
{
	struct cohbuf_imp_job *job;

	job = kzalloc(sizeof(*job), GFP_KERNEL);
	if (!job)
		return NULL;
	if (!fill && a->map.is_iomem) {
		job->bounce = kmalloc(COHBUF_IMP_BOUNCE, GFP_KERNEL);
		if (!job->bounce) {
			kfree(job);
			return NULL;
		}
	}
	spin_lock_init(&job->fence_lock);
	spin_lock_init(&job->state_lock);
	INIT_WORK(&job->work, cohbuf_imp_job_work);
	INIT_LIST_HEAD(&job->cb.node);
	job->idev = idev;
	job->map = a->map;
	job->offset = arg->offset;
	job->length = arg->length;
	job->pattern = arg->pattern;
	job->fill = fill;
	return job;
}

/* Before the fence is initialised: nobody has seen the job. */
static void cohbuf_imp_job_free(struct cohbuf_imp_job *job)
{
	kfree(job->bounce);
	kfree(job);
}

/*
 * Takes the buffer's fences that the job must wait for, and adds the job's
 * fence, initialised only now that nothing can fail: a write waits for
 * readers and writers, a read for writers only.
 */
static int cohbuf_imp_job_add_to_resv(struct cohbuf_imp_job *job,
				      struct cohbuf_imp_attachment *a)
{
	struct dma_resv *resv = a->dmabuf->resv;
	int ret;

	ret = dma_resv_lock_interruptible(resv, NULL);
	if (ret)
		return ret;
	ret = dma_resv_reserve_fences(resv, 1);
	if (!ret)
		ret = dma_resv_get_fences(resv, dma_resv_usage_rw(job->fill),
					  &job->nr_deps, &job->deps);
	if (!ret) {
		dma_fence_init(&job->base, &cohbuf_imp_job_ops,
			       &job->fence_lock, a->fence_context, ++a->seqno);
		/* Released in cohbuf_imp_job_release(). */
		__module_get(THIS_MODULE);
		dma_resv_add_fence(resv, &job->base,
				   job->fill ? DMA_RESV_USAGE_WRITE :
					       DMA_RESV_USAGE_READ);
	}
	dma_resv_unlock(resv);
	return ret;
}

/* Under the file's lock, with @a vmapped and @arg checked against it. */
int cohbuf_imp_job_queue(struct cohbuf_imp_device *idev,
			 struct cohbuf_imp_attachment *a,
			 const struct cohbuf_imp_access *arg, bool fill)
{
	struct cohbuf_imp_job *job;
	int ret;

	if (fill && !a->writable)
		return -EACCES;
	if (a->job && !dma_fence_is_signaled(&a->job->base))
		return -EBUSY;
	job = cohbuf_imp_job_create(idev, a, arg, fill);
	if (!job)
		return -ENOMEM;
	ret = cohbuf_imp_job_add_to_resv(job, a);
	if (ret) {
		cohbuf_imp_job_free(job);
		return ret;
	}
	if (a->job)
		dma_fence_put(&a->job->base);
	a->job = job;
	atomic_inc(&idev->nr_jobs);
	dma_fence_get(&job->base);
	queue_work(cohbuf_imp_wq, &job->work);
	return 0;
}

/*
 * Cancels @job unless it has started, and returns once it has completed.
 * The work adds a callback only under state_lock and while not cancelled:
 * once cancelled is set, the one callback that may be pending is either
 * removed here, and the work queued in its stead, or has queued it already.
 */
void cohbuf_imp_job_cancel(struct cohbuf_imp_job *job)
{
	spin_lock(&job->state_lock);
	job->cancelled = true;
	if (job->next_dep < job->nr_deps &&
	    dma_fence_remove_callback(job->deps[job->next_dep], &job->cb))
		queue_work(cohbuf_imp_wq, &job->work);
	spin_unlock(&job->state_lock);
	flush_work(&job->work);
}

void cohbuf_imp_job_put(struct cohbuf_imp_job *job)
{
	dma_fence_put(&job->base);
}

/* The handle's last job, with a reference, or NULL. */
static struct cohbuf_imp_job *cohbuf_imp_job_get(struct cohbuf_imp_file *file,
						 u32 handle)
{
	struct cohbuf_imp_attachment *a;
	struct cohbuf_imp_job *job;

	a = cohbuf_imp_lock_lookup(file, handle);
	if (IS_ERR(a))
		return ERR_CAST(a);
	job = a->job;
	if (job)
		dma_fence_get(&job->base);
	mutex_unlock(&file->lock);
	return job ?: ERR_PTR(-ENODATA);
}

long cohbuf_imp_ioctl_wait(struct cohbuf_imp_file *file,
			   struct cohbuf_imp_wait __user *uarg)
{
	struct cohbuf_imp_job *job;
	struct cohbuf_imp_wait arg;
	long left;
	int ret = 0;

	if (copy_from_user(&arg, uarg, sizeof(arg)))
		return -EFAULT;
	if (arg.reserved)
		return -EINVAL;
	job = cohbuf_imp_job_get(file, arg.handle);
	if (IS_ERR(job))
		return PTR_ERR(job);

	left = dma_fence_wait_timeout(&job->base, true,
				      msecs_to_jiffies(arg.timeout_ms));
	if (left < 0) {
		ret = left;
	} else if (!left) {
		ret = -ETIMEDOUT;
	} else {
		arg.status = dma_fence_get_status(&job->base);
		arg.status = min(arg.status, 0);
		arg.crc32 = job->fill || arg.status ? 0 : job->crc32;
		if (copy_to_user(uarg, &arg, sizeof(arg)))
			ret = -EFAULT;
	}
	cohbuf_imp_job_put(job);
	return ret;
}

int cohbuf_imp_job_init(void)
{
	cohbuf_imp_wq = alloc_workqueue("cohbuf_importer",
					WQ_UNBOUND | WQ_MEM_RECLAIM, 0);
	return cohbuf_imp_wq ? 0 : -ENOMEM;
}

/* Every job has completed: each open file pins the module. */
void cohbuf_imp_job_exit(void)
{
	destroy_workqueue(cohbuf_imp_wq);
}
