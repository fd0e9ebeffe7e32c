//! A FIFO queue that keeps its first item inline.
//!
//! Per-connection queues are empty when idle and hold one item most of the
//! time (a reply on its way): this one allocates only for a second item,
//! and gives that memory back once it drains.

use std::collections::VecDeque;

/// A FIFO queue whose front item lives inline (no allocation for one item).
#[derive(Debug)]
pub(crate) struct InlineDeque<T> {
    /// The oldest item; `None` only when the queue is empty.
    head: Option<T>,
    rest: VecDeque<T>,
}

impl<T> Default for InlineDeque<T> {
    fn default() -> Self {
        Self {
            head: None,
            rest: VecDeque::new(),
        }
    }
}

impl<T> InlineDeque<T> {
    /// The number of items.
    pub(crate) fn len(&self) -> usize {
        usize::from(self.head.is_some()) + self.rest.len()
    }

    /// True when the queue holds nothing.
    pub(crate) fn is_empty(&self) -> bool {
        self.head.is_none()
    }

    /// Adds an item at the back.
    pub(crate) fn push_back(&mut self, item: T) {
        if self.head.is_none() {
            self.head = Some(item);
        } else {
            self.rest.push_back(item);
        }
    }

    /// Takes the front item; a drained overflow gives its memory back.
    pub(crate) fn pop_front(&mut self) -> Option<T> {
        let item = self.head.take()?;
        self.head = self.rest.pop_front();
        if self.rest.is_empty() && self.rest.capacity() > 0 {
            self.rest = VecDeque::new();
        }
        Some(item)
    }

    /// The front item.
    pub(crate) fn front(&self) -> Option<&T> {
        self.head.as_ref()
    }

    /// The front item, mutably.
    pub(crate) fn front_mut(&mut self) -> Option<&mut T> {
        self.head.as_mut()
    }

    /// The items, front to back.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &T> {
        self.head.iter().chain(self.rest.iter())
    }

    /// The items, front to back, mutably.
    pub(crate) fn iter_mut(&mut self) -> impl Iterator<Item = &mut T> {
        self.head.iter_mut().chain(self.rest.iter_mut())
    }

    /// Removes every item and gives the memory back.
    pub(crate) fn clear(&mut self) {
        self.head = None;
        self.rest = VecDeque::new();
    }
}

#[cfg(test)]
mod tests {
    use super::InlineDeque;

    #[test]
    fn first_in_first_out_across_the_inline_slot() {
        let mut q = InlineDeque::default();
        assert!(q.is_empty());
        for i in 0..5 {
            q.push_back(i);
        }
        assert_eq!(q.len(), 5);
        assert_eq!(q.iter().copied().collect::<Vec<_>>(), [0, 1, 2, 3, 4]);
        assert_eq!(q.pop_front(), Some(0));
        q.push_back(5);
        let drained: Vec<_> = std::iter::from_fn(|| q.pop_front()).collect();
        assert_eq!(drained, [1, 2, 3, 4, 5]);
        assert!(q.is_empty());
        assert_eq!(q.rest.capacity(), 0, "the overflow gave its memory back");
        q.push_back(9);
        assert_eq!(q.rest.capacity(), 0, "one item stays inline");
        assert_eq!(q.front(), Some(&9));
        *q.front_mut().unwrap() = 10;
        assert_eq!(q.iter_mut().map(|x| *x).collect::<Vec<_>>(), [10]);
        q.clear();
        assert_eq!(q.pop_front(), None);
    }
}
