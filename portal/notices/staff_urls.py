"""The staff console's notice pages, mounted at /staff/notices/ (namespace "notices_staff").

Every view is wrapped in the staff gate (portal.staff.gate.staff_view) with its permission.
"""

from django.urls import path

from portal.notices.views import console, estimate

app_name = "notices_staff"

urlpatterns = [
    path("", console.notice_list, name="list"),
    path("new/", console.notice_new, name="new"),
    path("preview/", console.notice_preview, name="preview"),
    path("estimate/", estimate.estimate, name="estimate"),
    path("review/", console.notice_review_queue, name="review"),
    path("second-look/", console.notice_second_look_queue, name="second_look"),
    path("<int:notice_id>/", console.notice_edit, name="edit"),
    path("<int:notice_id>/history/", console.notice_history, name="history"),
    path("<int:notice_id>/follow-up/", console.letter_follow_up, name="follow_up"),
    path("<int:notice_id>/attachments/", console.notice_attach, name="attach"),
    path("attachments/<int:attachment_id>/remove/", console.notice_detach, name="detach"),
    path("<int:notice_id>/submit/", console.notice_submit, name="submit"),
    path("<int:notice_id>/approve/", console.notice_approve, name="approve"),
    path("<int:notice_id>/send-back/", console.notice_send_back, name="send_back"),
    path(
        "<int:notice_id>/emergency-publish/",
        console.notice_emergency_publish,
        name="emergency_publish",
    ),
    path("<int:notice_id>/second-look/", console.notice_second_look, name="take_second_look"),
    path("<int:notice_id>/withdraw/", console.notice_withdraw, name="withdraw"),
]
