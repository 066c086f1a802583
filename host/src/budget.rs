//! A memory budget shared by concurrent work: the host buffers HTTP response
//! bodies outside any plugin's memory limit, so without one, 64 concurrent
//! calls could each hold a full response at once. Reservations are taken as
//! bytes arrive and given back when dropped; a reservation that does not fit
//! fails at once rather than waiting (the caller says which budget ran out).

use std::sync::Arc;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Permits are KiB, so a budget of up to 4 TiB fits the semaphore.
const UNIT: u64 = 1024;

/// The budget: `total` bytes shared by every holder.
#[derive(Debug, Clone)]
pub struct MemoryBudget {
    permits: Arc<Semaphore>,
    total: u64,
}

/// Bytes held against a budget until dropped.
#[derive(Debug)]
pub struct Reservation {
    budget: MemoryBudget,
    held: Option<OwnedSemaphorePermit>,
    bytes: u64,
}

impl MemoryBudget {
    pub fn new(total: u64) -> Self {
        let units = usize::try_from(total.div_ceil(UNIT)).unwrap_or(usize::MAX);
        MemoryBudget {
            permits: Arc::new(Semaphore::new(units.min(Semaphore::MAX_PERMITS))),
            total,
        }
    }

    /// The budget's size in bytes.
    pub fn total(&self) -> u64 {
        self.total
    }

    /// An empty reservation to grow.
    pub fn reserve(&self) -> Reservation {
        Reservation {
            budget: self.clone(),
            held: None,
            bytes: 0,
        }
    }
}

impl Reservation {
    /// Hold `more` bytes too; `false` (holding nothing more) if the budget lacks them.
    pub fn grow(&mut self, more: u64) -> bool {
        let bytes = self.bytes + more;
        let have = self.held.as_ref().map_or(0, |p| p.num_permits());
        let need = usize::try_from(bytes.div_ceil(UNIT)).unwrap_or(usize::MAX);
        if need > have {
            let extra = u32::try_from(need - have).unwrap_or(u32::MAX);
            match self.budget.permits.clone().try_acquire_many_owned(extra) {
                Ok(permit) => match &mut self.held {
                    Some(held) => held.merge(permit),
                    None => self.held = Some(permit),
                },
                Err(_) => return false,
            }
        }
        self.bytes = bytes;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reservations_share_the_budget_and_give_it_back() {
        let budget = MemoryBudget::new(10 * 1024);
        let mut a = budget.reserve();
        assert!(a.grow(6 * 1024));
        let mut b = budget.reserve();
        assert!(!b.grow(5 * 1024), "both fit in a budget of 10 KiB");
        assert!(b.grow(4 * 1024));
        assert!(!b.grow(1));
        drop(a);
        assert!(b.grow(6 * 1024));
    }
}
