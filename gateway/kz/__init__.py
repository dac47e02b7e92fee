"""The Kazakh profile (ОСМС): insurance status by ИИН through the social health insurance fund, and its packages."""
