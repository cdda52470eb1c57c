//! Kaplan–Meier survival of time from poverty exit to relapse, with Greenwood confidence
//! bands. Pure arithmetic on spells (no I/O).

/// One spell: time from exit to relapse (`event = true`) or to censoring.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Spell {
    /// Duration (years).
    pub duration: f64,
    /// Whether the spell ended in a relapse (otherwise censored).
    pub event: bool,
}

/// A Kaplan–Meier curve: survival just after each distinct event time.
#[derive(Debug, Clone, PartialEq)]
pub struct KaplanMeier {
    /// Times (0 first).
    pub time: Vec<f64>,
    /// Survival S(t).
    pub survival: Vec<f64>,
    /// Lower 95% bound (Greenwood, clamped to \[0,1\]).
    pub lower: Vec<f64>,
    /// Upper 95% bound.
    pub upper: Vec<f64>,
    /// At risk just before each time.
    pub at_risk: Vec<usize>,
    /// Discrete hazard h(t) = events / at risk at each time.
    pub hazard: Vec<f64>,
}

/// Kaplan–Meier estimate with Greenwood's variance. Censored spells at time `t` are at risk
/// for events at `t` (the usual convention).
pub fn kaplan_meier(spells: &[Spell]) -> KaplanMeier {
    let mut s: Vec<Spell> = spells
        .iter()
        .copied()
        .filter(|x| x.duration.is_finite())
        .collect();
    s.sort_by(|a, b| a.duration.total_cmp(&b.duration));
    let mut km = KaplanMeier {
        time: vec![0.0],
        survival: vec![1.0],
        lower: vec![1.0],
        upper: vec![1.0],
        at_risk: vec![s.len()],
        hazard: vec![0.0],
    };
    let (mut surv, mut green) = (1.0f64, 0.0f64);
    let mut i = 0;
    let n = s.len();
    while i < n {
        let t = s[i].duration;
        let at_risk = n - i;
        let mut events = 0usize;
        let mut j = i;
        while j < n && s[j].duration == t {
            if s[j].event {
                events += 1;
            }
            j += 1;
        }
        if events > 0 {
            let d = events as f64;
            let r = at_risk as f64;
            surv *= 1.0 - d / r;
            if r > d {
                green += d / (r * (r - d));
            }
            let half = 1.96 * surv * green.sqrt();
            km.time.push(t);
            km.survival.push(surv);
            km.lower.push((surv - half).clamp(0.0, 1.0));
            km.upper.push((surv + half).clamp(0.0, 1.0));
            km.at_risk.push(at_risk);
            km.hazard.push(d / r);
        }
        i = j;
    }
    km
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn textbook_example() {
        // Durations 1,2,2+,3,4+ (+ = censored): S(1)=0.8, S(2)=0.6, S(3)=0.3.
        let sp = [
            (1.0, true),
            (2.0, true),
            (2.0, false),
            (3.0, true),
            (4.0, false),
        ]
        .map(|(d, e)| Spell {
            duration: d,
            event: e,
        });
        let km = kaplan_meier(&sp);
        assert_eq!(km.time, vec![0.0, 1.0, 2.0, 3.0]);
        let want = [1.0, 0.8, 0.6, 0.3];
        for (a, b) in km.survival.iter().zip(want) {
            assert!((a - b).abs() < 1e-12);
        }
        assert!(km.lower[2] < 0.6 && km.upper[2] > 0.6);
        assert_eq!(km.at_risk, vec![5, 5, 4, 2]);
    }

    #[test]
    fn no_events_keeps_survival_at_one() {
        let sp = [Spell {
            duration: 2.0,
            event: false,
        }];
        let km = kaplan_meier(&sp);
        assert_eq!(km.survival, vec![1.0]);
    }
}
