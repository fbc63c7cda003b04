//! Dynamic batching: a per-model queue whose consumer takes several requests at once (up to a
//! number of images, waiting a bounded time for more), and the admission limit that bounds the
//! requests a model holds at once (beyond it: 503).

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

/// How batches are formed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchPolicy {
    /// Most images in one batch (a single larger request still runs, alone).
    pub max_images: usize,
    /// Longest wait, from the first queued request, for more requests to join.
    pub delay: Duration,
}

/// One queued job.
struct Entry<J> {
    job: J,
    images: usize,
    solo: bool,
    queued: Instant,
}

struct State<J> {
    items: VecDeque<Entry<J>>,
    closed: bool,
}

/// A multi-producer, single-consumer batching queue.
pub struct BatchQueue<J> {
    state: Mutex<State<J>>,
    ready: Condvar,
}

/// A job taken from the queue with the time it waited.
pub struct Taken<J> {
    /// The job.
    pub job: J,
    /// Time from `push` to the start of its batch.
    pub waited: Duration,
}

impl<J> Default for BatchQueue<J> {
    fn default() -> Self {
        BatchQueue {
            state: Mutex::new(State {
                items: VecDeque::new(),
                closed: false,
            }),
            ready: Condvar::new(),
        }
    }
}

impl<J> BatchQueue<J> {
    /// An empty, open queue.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State<J>> {
        // A panic while holding the lock leaves the queue itself consistent.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Queues a job of `images` images; `solo` jobs always run alone. Gives the job back when
    /// the queue is closed.
    pub fn push(&self, job: J, images: usize, solo: bool) -> Result<(), J> {
        let mut s = self.lock();
        if s.closed {
            return Err(job);
        }
        s.items.push_back(Entry {
            job,
            images: images.max(1),
            solo,
            queued: Instant::now(),
        });
        drop(s);
        self.ready.notify_one();
        Ok(())
    }

    /// Closes the queue: no more pushes; [`Self::next_batch`] drains what is queued, then ends.
    pub fn close(&self) {
        self.lock().closed = true;
        self.ready.notify_all();
    }

    /// Jobs waiting.
    pub fn len(&self) -> usize {
        self.lock().items.len()
    }

    /// Whether no job is waiting.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Blocks for the next batch: the oldest job, then (unless it is solo) following non-solo
    /// jobs while their images fit in `max_images`, waiting until `delay` after the oldest job
    /// was queued for more to arrive. `None` once the queue is closed and drained.
    pub fn next_batch(&self, policy: &BatchPolicy) -> Option<Vec<Taken<J>>> {
        let mut s = self.lock();
        loop {
            if !s.items.is_empty() {
                break;
            }
            if s.closed {
                return None;
            }
            s = self.ready.wait(s).unwrap_or_else(|p| p.into_inner());
        }
        let first = s.items.pop_front().expect("not empty");
        let deadline = first.queued + policy.delay;
        let mut images = first.images;
        let solo = first.solo;
        let mut batch = vec![first];
        if !solo {
            loop {
                if images >= policy.max_images {
                    break;
                }
                match s.items.front() {
                    Some(e) if !e.solo && images + e.images <= policy.max_images => {
                        let e = s.items.pop_front().expect("front exists");
                        images += e.images;
                        batch.push(e);
                        continue;
                    }
                    // The next job does not fit or must run alone: run what we have.
                    Some(_) => break,
                    None => {}
                }
                let now = Instant::now();
                if s.closed || now >= deadline {
                    break;
                }
                s = self
                    .ready
                    .wait_timeout(s, deadline - now)
                    .unwrap_or_else(|p| p.into_inner())
                    .0;
            }
        }
        drop(s);
        let start = Instant::now();
        Some(
            batch
                .into_iter()
                .map(|e| Taken {
                    waited: start.saturating_duration_since(e.queued),
                    job: e.job,
                })
                .collect(),
        )
    }
}

/// Bounds the requests one model holds (being decoded, queued or inferred).
#[derive(Debug)]
pub struct Admission {
    limit: usize,
    current: AtomicUsize,
}

/// One admitted request; dropping it frees its place.
#[derive(Debug)]
pub struct Permit(Arc<Admission>);

impl Drop for Permit {
    fn drop(&mut self) {
        self.0.current.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Admission {
    /// A limit of `limit` requests at once.
    pub fn new(limit: usize) -> Arc<Admission> {
        Arc::new(Admission {
            limit,
            current: AtomicUsize::new(0),
        })
    }

    /// A place, or `None` when `limit` requests are already held.
    pub fn try_admit(self: &Arc<Self>) -> Option<Permit> {
        let mut cur = self.current.load(Ordering::Acquire);
        loop {
            if cur >= self.limit {
                return None;
            }
            match self.current.compare_exchange_weak(
                cur,
                cur + 1,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => return Some(Permit(self.clone())),
                Err(now) => cur = now,
            }
        }
    }

    /// Requests held now.
    pub fn current(&self) -> usize {
        self.current.load(Ordering::Acquire)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(max: usize, delay_ms: u64) -> BatchPolicy {
        BatchPolicy {
            max_images: max,
            delay: Duration::from_millis(delay_ms),
        }
    }

    fn jobs(b: Vec<Taken<u32>>) -> Vec<u32> {
        b.into_iter().map(|t| t.job).collect()
    }

    #[test]
    fn a_closed_queue_refuses_jobs_and_ends_after_draining() {
        let q = BatchQueue::new();
        q.push(1u32, 1, false).unwrap();
        q.close();
        assert_eq!(q.push(2, 1, false), Err(2));
        assert_eq!(jobs(q.next_batch(&policy(8, 1000)).unwrap()), vec![1]);
        assert!(q.next_batch(&policy(8, 1000)).is_none());
    }

    #[test]
    fn the_admission_limit_refuses_beyond_it_and_frees_on_drop() {
        let a = Admission::new(2);
        let p1 = a.try_admit().unwrap();
        let _p2 = a.try_admit().unwrap();
        assert!(a.try_admit().is_none());
        assert_eq!(a.current(), 2);
        drop(p1);
        assert!(a.try_admit().is_some());
        let zero = Admission::new(0);
        assert!(zero.try_admit().is_none());
    }

    #[test]
    fn solo_jobs_never_share_a_batch() {
        let q = BatchQueue::new();
        q.push(1u32, 1, false).unwrap();
        q.push(2, 1, true).unwrap();
        q.push(3, 1, false).unwrap();
        q.push(4, 1, true).unwrap();
        q.close();
        let p = policy(8, 0);
        assert_eq!(jobs(q.next_batch(&p).unwrap()), vec![1]);
        assert_eq!(jobs(q.next_batch(&p).unwrap()), vec![2]);
        assert_eq!(jobs(q.next_batch(&p).unwrap()), vec![3]);
        assert_eq!(jobs(q.next_batch(&p).unwrap()), vec![4]);
    }

    #[test]
    fn batches_never_exceed_the_image_limit_but_an_oversized_job_runs_alone() {
        let q = BatchQueue::new();
        q.push(1u32, 3, false).unwrap();
        q.push(2, 3, false).unwrap();
        q.push(3, 3, false).unwrap();
        q.push(4, 20, false).unwrap();
        q.push(5, 1, false).unwrap();
        q.close();
        let p = policy(8, 0);
        assert_eq!(jobs(q.next_batch(&p).unwrap()), vec![1, 2]);
        assert_eq!(jobs(q.next_batch(&p).unwrap()), vec![3]);
        assert_eq!(jobs(q.next_batch(&p).unwrap()), vec![4]);
        assert_eq!(jobs(q.next_batch(&p).unwrap()), vec![5]);
    }

    #[test]
    fn queued_jobs_are_taken_together_in_order() {
        let q = BatchQueue::new();
        for i in 0..5u32 {
            q.push(i, 1, false).unwrap();
        }
        let b = q.next_batch(&policy(4, 0)).unwrap();
        assert_eq!(jobs(b), vec![0, 1, 2, 3]);
        assert_eq!(q.len(), 1);
    }

    #[test]
    fn the_consumer_waits_up_to_the_delay_for_more_jobs() {
        let q = Arc::new(BatchQueue::new());
        q.push(1u32, 1, false).unwrap();
        let q2 = q.clone();
        let producer = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(30));
            q2.push(2, 1, false).unwrap();
        });
        // A generous delay: the second job arrives within it and joins the batch.
        let b = q.next_batch(&policy(2, 5_000)).unwrap();
        producer.join().unwrap();
        assert_eq!(jobs(b), vec![1, 2]);
        // With no delay, a lone job runs at once.
        q.push(3, 1, false).unwrap();
        let t = Instant::now();
        assert_eq!(jobs(q.next_batch(&policy(2, 0)).unwrap()), vec![3]);
        assert!(t.elapsed() < Duration::from_secs(2));
    }

    #[test]
    fn the_consumer_blocks_until_a_job_arrives() {
        let q = Arc::new(BatchQueue::new());
        let q2 = q.clone();
        let consumer = std::thread::spawn(move || jobs(q2.next_batch(&policy(1, 0)).unwrap()));
        std::thread::sleep(Duration::from_millis(20));
        q.push(9u32, 1, false).unwrap();
        assert_eq!(consumer.join().unwrap(), vec![9]);
    }
}
