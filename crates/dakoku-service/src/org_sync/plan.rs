//! The planner: dakoku's org, the platform's directory and the base in, the steps of a sync
//! out. Pure: nothing here reads or writes.

use super::*;
pub(super) enum Decision {
    Same,
    Carry,
    Conflict(&'static str),
}

/// The three-way rule for one paired record: carry over what changed on the followed side
/// only; a change on the written side (since the base) is a conflict.
pub(super) fn decide(
    direction: Direction,
    local: Option<&Shape>,
    remote: Option<&Shape>,
    base: Option<&Shape>,
) -> Decision {
    match (direction, local, remote) {
        (_, Some(l), Some(r)) if l == r => Decision::Same,
        (_, None, None) => Decision::Same,
        (Direction::Read, Some(l), Some(r)) => match base {
            None => Decision::Carry,
            Some(b) if b == l => Decision::Carry,
            Some(b) if b == r => Decision::Conflict("changed in dakoku since the last sync"),
            Some(_) => Decision::Conflict("changed both in dakoku and on the platform since the last sync"),
        },
        (Direction::Write, Some(l), Some(r)) => match base {
            None => Decision::Carry,
            Some(b) if b == r => Decision::Carry,
            Some(b) if b == l => Decision::Conflict("changed on the platform since the last sync"),
            Some(_) => Decision::Conflict("changed both in dakoku and on the platform since the last sync"),
        },
        (Direction::Read, Some(l), None) => match base {
            Some(b) if b != l => {
                Decision::Conflict("deleted on the platform but changed in dakoku since the last sync")
            }
            _ => Decision::Carry,
        },
        (Direction::Write, Some(_), None) => Decision::Conflict(
            "deleted on the platform; delete it in dakoku too, or remove the pairing to create it again",
        ),
        (Direction::Read, None, Some(_)) => {
            Decision::Conflict("deleted in dakoku; delete it on the platform too, or it stays unpaired")
        }
        (Direction::Write, None, Some(r)) => match base {
            Some(b) if b != r => {
                Decision::Conflict("deleted in dakoku but changed on the platform since the last sync")
            }
            _ => Decision::Carry,
        },
    }
}

/// Depth of each node of a forest given by parent links (a cycle is cut).
pub(super) fn depths(parents: &HashMap<String, Option<String>>) -> HashMap<String, usize> {
    parents
        .keys()
        .map(|id| {
            let mut depth = 0;
            let mut at = id;
            while let Some(Some(up)) = parents.get(at) {
                depth += 1;
                at = up;
                if depth > parents.len() {
                    break;
                }
            }
            (id.clone(), depth)
        })
        .collect()
}

/// The digits of a mobile number, so "+86 138-0000-0000" and "8613800000000" match.
pub(super) fn digits(mobile: Option<&str>) -> String {
    mobile.unwrap_or_default().chars().filter(char::is_ascii_digit).collect()
}

/// Two ways of writing one number: the same digits, or one with a country code (up to three
/// digits) in front of the other.
pub fn same_number(a: Option<&str>, b: Option<&str>) -> bool {
    let (a, b) = (digits(a), digits(b));
    let (long, short) = if a.len() >= b.len() { (a, b) } else { (b, a) };
    long == short || (short.len() >= 7 && long.len() - short.len() <= 3 && long.ends_with(&short))
}

/// Shapes are the same when names and places are, and mobiles are the same number.
impl PartialEq for Shape {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
            && self.parent == other.parent
            && match (&self.mobile, &other.mobile) {
                (None, None) => true,
                (Some(a), Some(b)) => same_number(Some(a), Some(b)),
                _ => false,
            }
    }
}

/// Employee codes are what a member's platform user id becomes in dakoku.
pub(super) fn usable_code(user_id: &str) -> bool {
    let mut errors = dakoku_domain::ValidationErrors::default();
    dakoku_domain::validate::code(&mut errors, "code", user_id);
    errors.is_empty() && user_id.trim() == user_id
}

pub(super) struct Planner<'a> {
    direction: Direction,
    keyed_by_mobile: bool,
    local: &'a LocalOrg,
    plan: SyncPlan,
    /// dakoku department id → platform department id, as paired so far.
    local_to_remote: HashMap<String, String>,
}

impl Planner<'_> {
    fn remote_ref(&self, local: Option<&DepartmentId>) -> Option<String> {
        local.map(|id| self.local_to_remote.get(id.as_str()).cloned().unwrap_or_else(|| format!("local:{id}")))
    }

    fn department_shape(&self, d: &Department) -> Shape {
        Shape { name: d.name.clone(), parent: self.remote_ref(d.parent_id.as_ref()), mobile: None }
    }

    fn member_shape(&self, e: &Employee) -> Shape {
        let mobile = e.mobile.clone().filter(|_| self.keyed_by_mobile);
        Shape { name: e.name.clone(), parent: self.remote_ref(e.department_id.as_ref()), mobile }
    }

    fn push(&mut self, target: Target, action: Action, kind: Item, ids: (Option<&str>, Option<&str>), shape: Shape) {
        self.plan.changes.push(Change {
            target,
            action,
            kind,
            remote_id: ids.0.map(str::to_owned),
            local_id: ids.1.map(str::to_owned),
            shape,
            was: None,
            email: None,
        });
    }

    fn conflict(
        &mut self,
        kind: Item,
        ids: (Option<&str>, Option<&str>),
        reason: &str,
        l: Option<Shape>,
        r: Option<Shape>,
    ) {
        let name = l.as_ref().or(r.as_ref()).map(|s| s.name.clone()).unwrap_or_default();
        self.plan.conflicts.push(Conflict {
            kind,
            remote_id: ids.0.map(str::to_owned),
            local_id: ids.1.map(str::to_owned),
            name,
            reason: reason.to_owned(),
            dakoku: l,
            platform: r,
        });
    }

    /// One paired record (l: dakoku's shape, r: the platform's, b: the base). `removal` is the
    /// action that takes it off the written side.
    fn pair(&mut self, kind: Item, ids: (&str, &str), shapes: [Option<Shape>; 3], removal: Action) {
        let [l, r, b] = shapes;
        let (target, was, now) = match self.direction {
            Direction::Read => (Target::Dakoku, l.clone(), r.clone()),
            Direction::Write => (Target::Platform, r.clone(), l.clone()),
        };
        let both = (Some(ids.0), Some(ids.1));
        match decide(self.direction, l.as_ref(), r.as_ref(), b.as_ref()) {
            Decision::Same => {
                self.plan.unchanged += 1;
                if let Some(shape) = l.filter(|s| b.as_ref() != Some(s)) {
                    self.plan.refresh.push(BaseItem {
                        kind: kind.as_str().to_owned(),
                        remote_id: ids.0.to_owned(),
                        local_id: ids.1.to_owned(),
                        name: shape.name,
                        parent: shape.parent,
                        mobile: shape.mobile,
                    });
                }
            }
            Decision::Conflict(reason) => self.conflict(kind, both, reason, l, r),
            Decision::Carry => match (was, now) {
                (Some(was), Some(now)) => {
                    self.push(target, Action::Update, kind, both, now);
                    if let Some(change) = self.plan.changes.last_mut() {
                        change.was = Some(was);
                    }
                }
                (Some(was), None) => self.push(target, removal, kind, both, was),
                _ => {}
            },
        }
    }

    /// Departments: pairs first, then new ones parents first; deletions are returned to go
    /// last (after members moved out), deepest first.
    fn departments(&mut self, remote: &[RemoteDepartment]) -> Vec<Change> {
        let local = self.local;
        let by_id: HashMap<&str, &Department> = local.departments.iter().map(|d| (d.id.as_str(), d)).collect();
        let remote_by_id: HashMap<&str, &RemoteDepartment> = remote.iter().map(|d| (d.id.as_str(), d)).collect();
        let local_parents: HashMap<String, Option<String>> =
            local.departments.iter().map(|d| (d.id.to_string(), d.parent_id.as_ref().map(|p| p.to_string()))).collect();
        let remote_parents: HashMap<String, Option<String>> =
            remote.iter().map(|d| (d.id.clone(), d.parent_id.clone())).collect();
        let (local_depth, remote_depth) = (depths(&local_parents), depths(&remote_parents));
        let bases: Vec<&BaseItem> = local.base.iter().filter(|b| b.kind == Item::Department.as_str()).collect();
        for b in &bases {
            if by_id.contains_key(b.local_id.as_str()) {
                self.local_to_remote.insert(b.local_id.clone(), b.remote_id.clone());
            }
        }
        let mut paired_local = HashSet::new();
        let mut paired_remote = HashSet::new();
        let mut deletions = Vec::new();
        for b in bases {
            let l = by_id.get(b.local_id.as_str()).map(|d| self.department_shape(d));
            let r = remote_by_id.get(b.remote_id.as_str()).map(|d| Shape {
                name: d.name.clone(),
                parent: d.parent_id.clone(),
                mobile: None,
            });
            paired_local.insert(b.local_id.clone());
            paired_remote.insert(b.remote_id.clone());
            let before = self.plan.changes.len();
            let base = Shape { name: b.name.clone(), parent: b.parent.clone(), mobile: None };
            self.pair(Item::Department, (&b.remote_id, &b.local_id), [l, r, Some(base)], Action::Delete);
            if self.plan.changes.get(before).is_some_and(|c| c.action == Action::Delete) {
                deletions.push(self.plan.changes.remove(before));
            }
        }
        let depth_of = |c: &Change| match c.target {
            Target::Dakoku => c.local_id.as_ref().and_then(|id| local_depth.get(id)).copied().unwrap_or(0),
            Target::Platform => c.remote_id.as_ref().and_then(|id| remote_depth.get(id)).copied().unwrap_or(0),
        };
        deletions.sort_by_key(|c| std::cmp::Reverse(depth_of(c)));
        match self.direction {
            Direction::Read => {
                let mut fresh: Vec<&RemoteDepartment> =
                    remote.iter().filter(|d| !paired_remote.contains(&d.id)).collect();
                fresh.sort_by_key(|d| (remote_depth.get(&d.id).copied().unwrap_or(0), d.id.clone()));
                for r in fresh {
                    let shape = Shape { name: r.name.clone(), parent: r.parent_id.clone(), mobile: None };
                    let twin = local
                        .departments
                        .iter()
                        .find(|d| !paired_local.contains(d.id.as_str()) && self.department_shape(d) == shape);
                    let ids = (Some(r.id.as_str()), twin.map(|d| d.id.as_str()));
                    match twin {
                        Some(d) => {
                            paired_local.insert(d.id.to_string());
                            self.local_to_remote.insert(d.id.to_string(), r.id.clone());
                            self.push(Target::Dakoku, Action::Link, Item::Department, ids, shape);
                        }
                        None => self.push(Target::Dakoku, Action::Create, Item::Department, ids, shape),
                    }
                }
                self.plan.untouched +=
                    local.departments.iter().filter(|d| !paired_local.contains(d.id.as_str())).count() as u64;
            }
            Direction::Write => {
                let mut fresh: Vec<&Department> =
                    local.departments.iter().filter(|d| !paired_local.contains(d.id.as_str())).collect();
                fresh.sort_by_key(|d| (local_depth.get(d.id.as_str()).copied().unwrap_or(0), d.id.to_string()));
                for d in fresh {
                    let shape = self.department_shape(d);
                    let twin = remote.iter().find(|r| {
                        !paired_remote.contains(&r.id) && r.name == shape.name && r.parent_id == shape.parent
                    });
                    let ids = (twin.map(|r| r.id.as_str()), Some(d.id.as_str()));
                    match twin {
                        Some(r) => {
                            paired_remote.insert(r.id.clone());
                            self.local_to_remote.insert(d.id.to_string(), r.id.clone());
                            self.push(Target::Platform, Action::Link, Item::Department, ids, shape);
                        }
                        None => self.push(Target::Platform, Action::Create, Item::Department, ids, shape),
                    }
                }
                self.plan.untouched += remote.iter().filter(|r| !paired_remote.contains(&r.id)).count() as u64;
            }
        }
        deletions
    }

    /// Members: pairs by the integration's links, then the unpaired by employee code = user id.
    fn members(&mut self, remote: &[RemoteMember]) {
        let local = self.local;
        let by_id: HashMap<&str, &Employee> = local.employees.iter().map(|e| (e.id.as_str(), e)).collect();
        let remote_by_id: HashMap<&str, &RemoteMember> = remote.iter().map(|m| (m.user_id.as_str(), m)).collect();
        let bases: HashMap<&str, &BaseItem> =
            local.base.iter().filter(|b| b.kind == Item::Member.as_str()).map(|b| (b.remote_id.as_str(), b)).collect();
        let keyed_by_mobile = self.keyed_by_mobile;
        let remote_shape = |m: &RemoteMember| Shape {
            name: m.name.clone(),
            parent: m.department_id.clone(),
            mobile: m.mobile.clone().filter(|_| keyed_by_mobile),
        };
        // The same person by the platform's key: the user id as employee code, or the mobile.
        let same_mobile = |e: &Employee, m: &RemoteMember| {
            keyed_by_mobile && e.mobile.is_some() && same_number(e.mobile.as_deref(), m.mobile.as_deref())
        };
        let mut paired_local = HashSet::new();
        let mut paired_remote = HashSet::new();
        let removal = match self.direction {
            Direction::Read => Action::Retire,
            Direction::Write => Action::Delete,
        };
        let mut links: Vec<(&EmployeeId, &String)> = local.links.iter().collect();
        links.sort();
        for (employee_id, user) in links {
            let Some(e) = by_id.get(employee_id.as_str()) else { continue };
            paired_local.insert(e.id.as_str());
            paired_remote.insert(user.as_str());
            let l = (e.status == EmployeeStatus::Active).then(|| self.member_shape(e));
            let r = remote_by_id.get(user.as_str()).map(|m| remote_shape(m));
            if self.direction == Direction::Read && l.is_none() {
                // Retired in dakoku first, still on the platform: dakoku is ahead; nothing to do.
                self.plan.unchanged += 1;
                continue;
            }
            let b = bases.get(user.as_str()).map(|b| Shape {
                name: b.name.clone(),
                parent: b.parent.clone(),
                mobile: b.mobile.clone(),
            });
            self.pair(Item::Member, (user, e.id.as_str()), [l, r, b], removal);
        }
        if self.direction == Direction::Read && remote.is_empty() {
            let before = self.plan.changes.len();
            self.plan.changes.retain(|c| !(c.kind == Item::Member && c.action == Action::Retire));
            if self.plan.changes.len() < before {
                let reason = "the platform listed no members at all: nobody is retired (check the app's visible range)";
                self.conflict(Item::Member, (None, None), reason, None, None);
            }
        }
        let lowercase = |s: &str| s.to_lowercase();
        match self.direction {
            Direction::Read => {
                let mut fresh: Vec<&RemoteMember> =
                    remote.iter().filter(|m| !paired_remote.contains(m.user_id.as_str())).collect();
                fresh.sort_by(|a, b| a.user_id.cmp(&b.user_id));
                for m in fresh {
                    let shape = remote_shape(m);
                    let twin = local
                        .employees
                        .iter()
                        .find(|e| lowercase(&e.code) == lowercase(&m.user_id))
                        .or_else(|| local.employees.iter().find(|e| same_mobile(e, m)));
                    let ids = (Some(m.user_id.as_str()), twin.map(|e| e.id.as_str()));
                    match twin {
                        Some(e) if !paired_local.contains(e.id.as_str()) && e.status == EmployeeStatus::Active => {
                            paired_local.insert(e.id.as_str());
                            let mine = self.member_shape(e);
                            self.push(Target::Dakoku, Action::Link, Item::Member, ids, mine.clone());
                            if mine != shape {
                                self.push(Target::Dakoku, Action::Update, Item::Member, ids, shape);
                                if let Some(change) = self.plan.changes.last_mut() {
                                    change.was = Some(mine);
                                }
                            }
                        }
                        Some(e) => {
                            let why = if e.status == EmployeeStatus::Active {
                                "an employee with this code is paired with another platform user"
                            } else {
                                "a retired employee has this code"
                            };
                            let mine = self.member_shape(e);
                            self.conflict(Item::Member, ids, why, Some(mine), Some(shape));
                        }
                        None if !usable_code(&m.user_id) => {
                            let why = "the user id cannot be an employee code (letters, digits, '-', '_', '.')";
                            self.conflict(Item::Member, ids, why, None, Some(shape));
                        }
                        None => {
                            self.push(Target::Dakoku, Action::Create, Item::Member, ids, shape);
                            if let Some(change) = self.plan.changes.last_mut() {
                                change.email = m.email.clone();
                            }
                        }
                    }
                }
                self.plan.untouched += local
                    .employees
                    .iter()
                    .filter(|e| e.status == EmployeeStatus::Active && !paired_local.contains(e.id.as_str()))
                    .count() as u64;
            }
            Direction::Write => {
                let mut fresh: Vec<&Employee> = local
                    .employees
                    .iter()
                    .filter(|e| e.status == EmployeeStatus::Active && !paired_local.contains(e.id.as_str()))
                    .collect();
                fresh.sort_by(|a, b| a.code.cmp(&b.code));
                for e in fresh {
                    let mine = self.member_shape(e);
                    let unpaired = |m: &&RemoteMember| !paired_remote.contains(m.user_id.as_str());
                    let twin = remote
                        .iter()
                        .filter(unpaired)
                        .find(|m| lowercase(&m.user_id) == lowercase(&e.code))
                        .or_else(|| remote.iter().filter(unpaired).find(|m| same_mobile(e, m)));
                    match twin {
                        Some(m) => {
                            paired_remote.insert(m.user_id.as_str());
                            let theirs = remote_shape(m);
                            let ids = (Some(m.user_id.as_str()), Some(e.id.as_str()));
                            self.push(Target::Platform, Action::Link, Item::Member, ids, theirs.clone());
                            if mine != theirs {
                                self.push(Target::Platform, Action::Update, Item::Member, ids, mine);
                                if let Some(change) = self.plan.changes.last_mut() {
                                    change.was = Some(theirs);
                                }
                            }
                        }
                        None => {
                            self.push(
                                Target::Platform,
                                Action::Create,
                                Item::Member,
                                (Some(&e.code), Some(e.id.as_str())),
                                mine,
                            );
                            if let Some(change) = self.plan.changes.last_mut() {
                                change.email = e.email.clone();
                            }
                        }
                    }
                }
                self.plan.untouched +=
                    remote.iter().filter(|m| !paired_remote.contains(m.user_id.as_str())).count() as u64;
            }
        }
    }
}

/// What a sync in `direction` would change, given both sides and the base.
pub fn plan(direction: Direction, local: &LocalOrg, remote: &Directory) -> SyncPlan {
    let mut planner = Planner {
        direction,
        keyed_by_mobile: remote.keyed_by_mobile,
        local,
        plan: SyncPlan {
            direction,
            changes: Vec::new(),
            conflicts: Vec::new(),
            unchanged: 0,
            untouched: 0,
            refresh: Vec::new(),
        },
        local_to_remote: HashMap::new(),
    };
    let deletions = planner.departments(&remote.departments);
    planner.members(&remote.members);
    // Members leave before departments go, and retirements/deletions after moves.
    let (removals, mut rest): (Vec<Change>, Vec<Change>) = planner
        .plan
        .changes
        .drain(..)
        .partition(|c| c.kind == Item::Member && matches!(c.action, Action::Retire | Action::Delete));
    rest.extend(removals);
    rest.extend(deletions);
    planner.plan.changes = rest;
    planner.plan
}
