-- Sample "CMS" for docker-compose: a news site on MariaDB whose schema feedsvc does not own.
-- Column names are the CMS's own (Vietnamese); deploy/feedsvc-cms.toml maps them to articles.
-- Runs once from /docker-entrypoint-initdb.d when the MariaDB volume is first created.
-- The articles below are invented sample text.

CREATE DATABASE IF NOT EXISTS cms CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
USE cms;

CREATE TABLE chuyen_muc (
  id INT PRIMARY KEY,
  ten VARCHAR(100) NOT NULL
) CHARSET=utf8mb4;

CREATE TABLE bai_viet (
  id INT AUTO_INCREMENT PRIMARY KEY,
  ma_bai VARCHAR(64) NOT NULL UNIQUE,
  duong_dan VARCHAR(500) NOT NULL,
  tieu_de VARCHAR(500) NOT NULL,
  sapo TEXT NULL,
  noi_dung MEDIUMTEXT NULL,
  tac_gia VARCHAR(200) NULL,
  chuyen_muc_id INT NULL,
  anh_dai_dien VARCHAR(500) NULL,
  ngay_dang DATETIME NOT NULL,
  ngay_cap_nhat DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
  KEY ix_cap_nhat (ngay_cap_nhat, id),
  CONSTRAINT fk_cm FOREIGN KEY (chuyen_muc_id) REFERENCES chuyen_muc (id)
) CHARSET=utf8mb4;

CREATE TABLE the_tag (
  id INT PRIMARY KEY,
  ten VARCHAR(100) NOT NULL
) CHARSET=utf8mb4;

CREATE TABLE bai_viet_tag (
  bai_viet_id INT NOT NULL,
  tag_id INT NOT NULL,
  PRIMARY KEY (bai_viet_id, tag_id)
) CHARSET=utf8mb4;

INSERT INTO chuyen_muc (id, ten) VALUES
  (1, 'Thời sự'), (2, 'An ninh - Trật tự'), (3, 'Kinh tế'), (4, 'Giao thông');

INSERT INTO the_tag (id, ten) VALUES
  (1, 'Hải Phòng'), (2, 'Công an'), (3, 'Cảng biển'), (4, 'Mưa lớn'), (5, 'Xe buýt');

INSERT INTO bai_viet
  (id, ma_bai, duong_dan, tieu_de, sapo, noi_dung, tac_gia, chuyen_muc_id, anh_dai_dien,
   ngay_dang, ngay_cap_nhat)
VALUES
  (1, 'BV-0001', 'https://cms.example.vn/thoi-su/mua-lon-ngap-nhieu-tuyen-pho-1.html',
   'Mưa lớn kéo dài, nhiều tuyến phố nội thành ngập sâu',
   'Cơn mưa từ chiều qua khiến nước dâng cao ở nhiều tuyến phố trung tâm.',
   '<p>Lực lượng chức năng đã có mặt hướng dẫn người dân di chuyển an toàn.</p>',
   'Thu Hà', 1, NULL, NOW() - INTERVAL 5 HOUR, NOW() - INTERVAL 5 HOUR),
  (2, 'BV-0002', 'https://cms.example.vn/an-ninh/cong-an-triet-pha-duong-day-2.html',
   'Công an thành phố triệt phá đường dây lừa đảo qua mạng',
   'Nhóm đối tượng giả danh nhân viên ngân hàng để chiếm đoạt tiền của người dân.',
   '<p>Cơ quan điều tra đang mở rộng vụ án.</p>',
   'Minh Quân', 2, 'https://cms.example.vn/anh/2.jpg',
   NOW() - INTERVAL 4 HOUR, NOW() - INTERVAL 4 HOUR),
  (3, 'BV-0003', 'https://cms.example.vn/kinh-te/cang-bien-don-tau-lon-3.html',
   'Cảng biển đón tàu container trọng tải lớn nhất từ trước đến nay',
   'Sự kiện mở ra cơ hội thu hút thêm các tuyến vận tải quốc tế.',
   NULL, NULL, 3, NULL, NOW() - INTERVAL 3 HOUR, NOW() - INTERVAL 3 HOUR),
  (4, 'BV-0004', 'https://cms.example.vn/giao-thong/dieu-chinh-tuyen-xe-buyt-4.html',
   'Điều chỉnh lộ trình ba tuyến xe buýt từ đầu tháng tới',
   'Hành khách nên theo dõi thông báo tại các điểm dừng.',
   '<p>Sở Giao thông vận tải cho biết việc điều chỉnh nhằm giảm ùn tắc.</p>',
   'Lan Anh', 4, NULL, NOW() - INTERVAL 2 HOUR, NOW() - INTERVAL 2 HOUR),
  (5, 'BV-0005', 'https://cms.example.vn/an-ninh/cong-an-phuong-tim-lai-tai-san-5.html',
   'Công an phường giúp người dân tìm lại tài sản bị đánh rơi',
   'Chiếc ví chứa nhiều giấy tờ quan trọng đã được trao trả cho chủ nhân.',
   '<p>Người dân bày tỏ sự cảm ơn lực lượng công an.</p>',
   'Minh Quân', 2, NULL, NOW() - INTERVAL 1 HOUR, NOW() - INTERVAL 1 HOUR);

INSERT INTO bai_viet_tag (bai_viet_id, tag_id) VALUES
  (1, 1), (1, 4), (2, 1), (2, 2), (3, 1), (3, 3), (4, 5), (5, 2);

-- feedsvc reads only: a user that can do nothing but SELECT (the password is the sample's;
-- change it, and FEEDSVC_SOURCE__URL with it, for anything real).
CREATE USER IF NOT EXISTS 'feedsvc_reader'@'%' IDENTIFIED BY 'chi-doc-thoi';
GRANT SELECT ON cms.* TO 'feedsvc_reader'@'%';
