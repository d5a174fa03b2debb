"""Labels that several services' pages show for the same domain values (marked for
translation; pages translate them with the request's language)."""

from __future__ import annotations

from iris.ui.i18n import N_

# the roles a school responsible grants (access) and a viewer acts in (viewer)
ROLE_LABELS = {
    "teacher": N_("Teacher"),
    "care_coordinator": N_("Care coordinator"),
    "pupil_counsellor": N_("Pupil counsellor"),
    "support_worker": N_("Support worker"),
}
# short names of report kinds, as staff see them next to a pupil
KIND_LABELS = {
    "IAC": N_("IAC report"),
    "OV4": N_("OV4 report"),
    "GC": N_("GC report"),
    "V": N_("Report"),
    "GV": N_("Motivated report"),
}
LEVEL_LABELS = {
    "nursery": N_("Nursery education"),
    "primary": N_("Primary education"),
    "secondary": N_("Secondary education"),
}
